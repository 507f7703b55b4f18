/**
 * `jupyter-flows://runs/<id>`: how `%flow submit` names the run it created.
 */

export const RUN_LINK_PREFIX = 'jupyter-flows://runs/';

const RUN_LINK = /jupyter-flows:\/\/runs\/([A-Za-z0-9_-]+)/g;
const RUN_ID = /^[A-Za-z0-9_-]+$/;

export function runLink(id: string): string {
  return `${RUN_LINK_PREFIX}${id}`;
}

/** Every run id named by a run link in `text`, in order. */
export function findRunIds(text: string): string[] {
  return [...text.matchAll(RUN_LINK)].map(match => match[1]!);
}

/** The run id in a link or a bare id (as a user would paste either); null otherwise. */
export function parseRunRef(input: string | null | undefined): string | null {
  const text = (input ?? '').trim();
  if (!text) {
    return null;
  }
  const [linked] = findRunIds(text);
  if (linked) {
    return linked;
  }
  return RUN_ID.test(text) ? text : null;
}

/** Text split into plain pieces and run links (for turning output text into links). */
export function splitRunLinks(text: string): (string | { id: string; text: string })[] {
  const parts: (string | { id: string; text: string })[] = [];
  let last = 0;
  for (const match of text.matchAll(RUN_LINK)) {
    const start = match.index ?? 0;
    if (start > last) {
      parts.push(text.slice(last, start));
    }
    parts.push({ id: match[1]!, text: match[0] });
    last = start + match[0].length;
  }
  if (last < text.length) {
    parts.push(text.slice(last));
  }
  return parts;
}
