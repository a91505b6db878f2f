"""A fault-injection plugin: raises where the environment says, otherwise stays out of the way.

PLANWISE_FAULT_YEAR=2026   raise in process_year(2026)
PLANWISE_FAULT_YEAR=2026:kill  SIGKILL the process on entering process_year(2026): every earlier year is complete,
                           2026 has not started (a kill that lands at a known point, never too late)
PLANWISE_FAULT_YEAR=2026:data  raise a DuckDB-like "Conversion Error:" there (a deterministic data error)
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
    fault = os.environ.get("PLANWISE_FAULT_YEAR")
    if fault == f"{year}:kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == str(year):
        raise InjectedFault(f"injected fault in {year}")
    if fault == f"{year}:data":
        raise InjectedFault(f"Conversion Error: injected value out of range in {year}")
    return None


@hookimpl(tryfirst=True)
def foundation_setup():
    if os.environ.get("PLANWISE_FAULT_SETUP") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("PLANWISE_FAULT_SETUP"):
        raise InjectedFault("injected fault in foundation_setup")
    return None
