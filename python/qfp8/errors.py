"""The errors of qfp8: one class per exit code of the qfp8-cuda command
(docs/usage.md#exit-codes), each carrying the tool's own message."""


class Qfp8Error(Exception):
    """The tool failed, or could not be run. `message` is what the tool said (its error log
    lines), `exit_code` its exit status (None when it did not run), `command` the argv."""

    exit_code = None

    def __init__(self, message, exit_code=None, command=None, stderr=""):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code
        self.command = list(command or [])
        self.stderr = stderr


class UsageError(Qfp8Error):
    """Exit code 1: an unknown or malformed option or value, a missing argument. Also raised
    before running for a keyword the command has no option for."""

    exit_code = 1


class InvalidInputError(Qfp8Error):
    """Exit code 2: the input is not a valid checkpoint (bad header, non-finite weight, no layer
    to quantize), or a verification failed."""

    exit_code = 2


class VerificationFailed(InvalidInputError):
    """verify(..., check=True) on a file that failed: `result` holds the full VerifyResult."""

    def __init__(self, message, result, exit_code=2, command=None, stderr=""):
        super().__init__(message, exit_code, command, stderr)
        self.result = result


class IODeviceError(Qfp8Error):
    """Exit code 3: a file could not be read or written (a missing input; an existing output
    without force=True), or the GPU failed."""

    exit_code = 3


class InternalError(Qfp8Error):
    """Exit code 4 (a bug in qfp8-cuda), a signal, or output this package cannot read."""

    exit_code = 4


BY_EXIT_CODE = {1: UsageError, 2: InvalidInputError, 3: IODeviceError, 4: InternalError}
