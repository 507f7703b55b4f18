import type { FlowRun } from '../types';

/** Why a waiting run (read with GET of one run) is not taken: no online agent can run it,
 * or a concurrency limit of one of its labels is full; null when neither. */
export function waitingReason(run: FlowRun): string | null {
  if (run.agent_match && !run.agent_match.matched) {
    return run.agent_match.explanation;
  }
  return run.waiting_for ?? null;
}
