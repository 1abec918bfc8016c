// Every background task the worker runs, by name. Features add their tasks here.
import type { TaskList } from 'graphile-worker';

export function buildTaskList(): TaskList {
  return {};
}
