// Ends the run with one plain line, "N passed, N failed[, N skipped]", that any CI can read.
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = [], errors: unknown[] = []) {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const walk = (task: TaskLike) => {
      if (task.tasks) return task.tasks.forEach(walk);
      if (task.type !== 'test') return;
      const state = task.result?.state;
      if (state === 'pass') counts.passed++;
      else if (state === 'fail') counts.failed++;
      else counts.skipped++;
    };
    files.forEach(walk);
    // A file that failed to load has no tests but must still count as a failure.
    const brokenFiles = files.filter((f) => f.result?.state === 'fail' && !f.tasks?.length).length;
    const failed = counts.failed + brokenFiles + errors.length;
    console.log(`\n${counts.passed} passed, ${failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  }
}
