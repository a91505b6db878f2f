"""The employee census: synthetic generator, validator and loader."""

from planwise_core.census.capacity import Capacity, capacity_for
from planwise_core.census.generate import BUILTIN_CENSUS, builtin_census, generate_census
from planwise_core.census.load import census_options, load_census, publish_rejects, rejects_path_for
from planwise_core.census.validate import DROP, REFUSE, CensusSummary, validate_census
