// The one error class for a process that failed, apart from the modules that run processes, so that
// a module which only tells failures apart (doctor's checks) does not load a process runner.

/** A process that failed: its command, and what it said on stderr (or why it did not start). */
export class ProcessError extends Error {
  constructor(
    message: string,
    readonly command: string,
    /** The program was not found (ENOENT): say which package to install. */
    readonly notFound: boolean,
  ) {
    super(message);
  }
}
