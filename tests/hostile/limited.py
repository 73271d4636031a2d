"""``python -I limited.py LIMIT OUT -- CMD...``: run CMD under an address-space
limit and write its peak resident memory (bytes) and its CPU time (seconds,
user and system, its reaped workers included) to OUT; exit with its code.

Why a separate small process: Linux keeps ``ru_maxrss`` across fork and exec,
so a scan forked straight from the (large) pytest process would report
pytest's own size. Forked from this small interpreter, it reports its own.
Standard library only, so it starts in milliseconds.
"""

import os
import resource
import subprocess
import sys


def main() -> int:
    limit, out, separator, *command = sys.argv[1:]
    assert separator == "--"
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="ascii") as handle:
        handle.write(f"{usage.ru_maxrss * 1024} {usage.ru_utime + usage.ru_stime}")
    return 128 - proc.returncode if proc.returncode < 0 else proc.returncode


if __name__ == "__main__":
    sys.exit(main())
