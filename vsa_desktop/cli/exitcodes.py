"""The exit codes of the ``vsa`` command, in one place (README, "Exit codes").

=====  =================================================================================
code   meaning
=====  =================================================================================
0      ok
1      the analysis could not run (a model, the cloud, a disk), some batch rows failed,
       or a result was not kept in history although history was asked for (the result
       itself is still printed or written)
2      bad input or usage: a missing, unreadable or hostile file, a bad option
3      unexpected: a bug; the details are in a crash log whose path is printed
=====  =================================================================================

Two shell conventions sit beside the table: 130 after Ctrl+C, 141 when the reader of
stdout went away (``vsa history list | head -1``).
"""

from __future__ import annotations

OK = 0
FAILED = 1
USAGE = 2
BUG = 3
INTERRUPTED = 130
BROKEN_PIPE = 141
