/** Runs async tasks one after another, in the order they were queued, whatever each one's outcome. */

export class SerialTasks {
  private tail: Promise<void> = Promise.resolve();
  private readonly onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.onError = onError;
  }

  run(task: () => Promise<void>): Promise<void> {
    const next = this.tail.then(task).catch(this.onError);
    this.tail = next;
    return next;
  }

  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
