/**
 * Making `jupyter-flows://runs/<id>` in notebook output open the run view.
 *
 * JupyterLab (4.3+) already turns such text into an `<a href>`, which a browser cannot
 * open: a capturing click handler sends those clicks to `jupyter-flows:open-run` instead.
 * Where JupyterLab left it as text, an observer wraps it in such a link first.
 */
import { RUN_LINK_PREFIX, splitRunLinks } from './models/runLink';

const LINK_CLASS = 'jp-flows-run-link';

/** Install the click handler on `root`; returns a function that removes it. */
export function handleRunLinks(root: HTMLElement, open: (id: string) => void): () => void {
  const listener = (event: MouseEvent): void => {
    const target = event.target as Element | null;
    const anchor = target?.closest?.('a');
    const href = anchor?.getAttribute('href') ?? '';
    const id = anchor?.dataset.flowRunId ?? (href.startsWith(RUN_LINK_PREFIX) ? href.slice(RUN_LINK_PREFIX.length) : '');
    if (id && /^[A-Za-z0-9_-]+$/.test(id)) {
      event.preventDefault();
      event.stopPropagation();
      open(id);
    }
  };
  root.addEventListener('click', listener, true);
  return () => root.removeEventListener('click', listener, true);
}

/** Wrap run links found in text nodes under `node` (outputs only) in anchors. */
export function linkifyRunLinks(node: Element): void {
  const outputs = node.matches('.jp-OutputArea-output') ? [node] : [...node.querySelectorAll('.jp-OutputArea-output')];
  for (const output of outputs) {
    const walker = document.createTreeWalker(output, NodeFilter.SHOW_TEXT);
    const texts: Text[] = [];
    for (let current = walker.nextNode(); current; current = walker.nextNode()) {
      const text = current as Text;
      if (text.data.includes(RUN_LINK_PREFIX) && !text.parentElement?.closest('a')) {
        texts.push(text);
      }
    }
    for (const text of texts) {
      const parts = splitRunLinks(text.data).map(part => {
        if (typeof part === 'string') {
          return document.createTextNode(part);
        }
        const anchor = document.createElement('a');
        anchor.className = LINK_CLASS;
        anchor.href = `${RUN_LINK_PREFIX}${part.id}`;
        anchor.dataset.flowRunId = part.id;
        anchor.textContent = part.text;
        anchor.title = 'Open this flow run';
        return anchor;
      });
      text.replaceWith(...parts);
    }
  }
}

/** Watch `root` for new output and linkify it; returns a function that stops watching. */
export function watchOutputs(root: HTMLElement): () => void {
  linkifyRunLinks(root);
  const observer = new MutationObserver(records => {
    for (const record of records) {
      for (const added of record.addedNodes) {
        if (added instanceof Element) {
          const output = added.closest('.jp-OutputArea-output');
          linkifyRunLinks(output ?? added);
        } else if (added instanceof Text && added.data.includes(RUN_LINK_PREFIX)) {
          const output = added.parentElement?.closest('.jp-OutputArea-output');
          if (output) {
            linkifyRunLinks(output);
          }
        }
      }
    }
  });
  observer.observe(root, { childList: true, subtree: true });
  return () => observer.disconnect();
}
