import { setMaxListeners } from 'node:events';

/**
 * The controller a client aborts in `close()`. Every call in flight listens to its signal, so an
 * ordinary burst of more than ten calls would trip Node's listener-leak warning: it has no limit.
 */
export function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
