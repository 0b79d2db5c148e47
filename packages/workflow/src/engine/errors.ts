/**
 * A step that cannot go on as the flow is modelled (no gateway path holds, no assignee
 * resolves, a node is missing): retrying cannot help, so it opens an incident at once.
 */
export class FlowIncident extends Error {
  constructor(
    message: string,
    readonly nodeId: string | null = null,
  ) {
    super(message);
  }
}

/** A side effect's delivery failed; `retryable` says whether another attempt may succeed. */
export class DeliveryFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Thrown by a test's fault injector: the worker stops dead, as if its process was killed. */
export class WorkerCrash extends Error {
  constructor(readonly point: string) {
    super(`simulated worker crash at ${point}`);
  }
}

/**
 * A step run ahead in a transaction failed (`cause`) after `completed` others had run: the
 * transaction is rolled back and run again with only those, so the failing step runs as a
 * job of its own.
 */
export class RunAheadFailed extends Error {
  constructor(
    readonly completed: number,
    override readonly cause: unknown,
  ) {
    super(`a step run ahead failed after ${completed} others`);
  }
}
