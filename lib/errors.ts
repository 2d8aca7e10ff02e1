/** A problem with what the user asked for: one line, exit code 2, never a stack trace. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The request was fine but the work could not be done (disk, permissions, a failed step): exit code 1. */
export class GenerationError extends Error {
  readonly exitCode = 1;
}

export function isKnownError(err: unknown): err is UsageError | GenerationError {
  return err instanceof UsageError || err instanceof GenerationError;
}
