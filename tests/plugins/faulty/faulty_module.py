"""A fault-injection plugin: raises where the environment says, otherwise stays out of the way.

PLANWISE_FAULT_YEAR=2026   raise in process_year(2026)
PLANWISE_FAULT_SETUP=1     raise in foundation_setup (after the census was loaded)
PLANWISE_FAULT_SETUP=kill  SIGKILL the process there, as the out-of-memory killer would
"""

import os
import signal

from planwise_core import hookimpl


class InjectedFault(RuntimeError):
    pass


@hookimpl(tryfirst=True)
def process_year(year):
    if os.environ.get("PLANWISE_FAULT_YEAR") == str(year):
        raise InjectedFault(f"injected fault in {year}")
    return None


@hookimpl(tryfirst=True)
def foundation_setup():
    if os.environ.get("PLANWISE_FAULT_SETUP") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("PLANWISE_FAULT_SETUP"):
        raise InjectedFault("injected fault in foundation_setup")
    return None
