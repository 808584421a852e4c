"""The one exception type for mistakes a person can cause.

The UI shows ``str(err)`` in a box and the CLI prints it on one line and exits 2; neither shows a
traceback. Anything else that escapes is a bug in the studio.
"""


class StudioError(Exception):
    """A plain-language problem: bad upload, unknown dataset, missing run, offline download, ..."""
