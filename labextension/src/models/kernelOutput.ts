/**
 * Reading what `%flow submit` printed: text of iopub messages, errors without ANSI codes.
 */

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

interface IOPubContent {
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** The text a kernel output message carries (stream text, text/plain or text/html). */
export function outputText(msgType: string, content: IOPubContent): string {
  switch (msgType) {
    case 'stream':
      return content.text ?? '';
    case 'execute_result':
    case 'display_data':
    case 'update_display_data': {
      const data = content.data ?? {};
      const plain = data['text/plain'];
      const html = data['text/html'];
      return [plain, html].filter((part): part is string => typeof part === 'string').join('\n');
    }
    case 'error':
      return errorSummary(content);
    default:
      return '';
  }
}

/** "NameError: name 'x' is not defined" from an error message's content. */
export function errorSummary(content: IOPubContent): string {
  const head = [content.ename, content.evalue].filter(Boolean).join(': ');
  return stripAnsi(head || (content.traceback ?? []).join('\n'));
}
