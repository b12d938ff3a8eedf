"""A local job dies with the command that started it: this program makes sure of it.

Run by file path (standard library only) as the leader of the job's own process group,
it starts the job's program in that group and reads its stdin, a pipe whose other end
only the command holds. When the command ends in any way, kill -9 included, the kernel
closes that end; the read returns, and the watchdog stops the whole group (SIGTERM, then
SIGKILL), the job's children too. So no job outlives its command, and the next run starts
clean instead of racing a leftover writing into the same model folder. Otherwise it
waits for the program and exits as it did (by the same signal, when it was killed),
so the command sees the job's own exit status.
"""

import os
import signal
import subprocess
import sys
import threading
import time

STOP_GRACE_S = 2.0  # between SIGTERM and SIGKILL, as the command's own stop waits


def _stop_group_when_orphaned(program: subprocess.Popen) -> None:
    try:
        while os.read(0, 65536):  # the raw fd: a buffered reader's lock would stall interpreter exit
            pass  # the command never writes; anything read is ignored
    except OSError:
        pass
    group = os.getpgrp()
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE_S
    while program.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(group, signal.SIGKILL)  # what the program left, and this process too


def main() -> None:
    # A stop from the command signals the whole group: the program decides how to end,
    # and this process reports what it did (a Python handler, unlike SIG_IGN, is not inherited).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    program = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
    threading.Thread(target=_stop_group_when_orphaned, args=(program,), daemon=True).start()
    while True:
        try:
            status = program.wait()
            break
        except InterruptedError:
            continue
    if status < 0:
        if -status not in (signal.SIGKILL, signal.SIGSTOP):  # those two keep their default anyway
            signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        time.sleep(1)  # the signal is delivered before this ends
    sys.exit(status)


if __name__ == "__main__":
    main()
