#include "app/settings.h"

#include "config/duration.h"
#include "sys/error.h"

namespace netmon {

ResolvedSelection resolve_interfaces(const Options& options) {
  SelectionInputs inputs;
  inputs.args = options.interfaces;
  inputs.config_path = options.config_path;
  inputs.uci_config_path = options.uci_config_path;
  return resolve_selection(inputs);
}

// UCI may carry interval/source for routers configured with `uci set`; the
// command line always wins.
void apply_uci_settings(const ResolvedSelection& resolved, Options& options) {
  if (resolved.interval && !options.interval_given) {
    auto interval = parse_duration(resolved.interval->value);
    if (!interval)
      throw Error(resolved.interval->where + ": invalid interval '" + resolved.interval->value +
                  "': expected a duration such as 250ms, 2s or 1.5s");
    options.interval = *interval;
  }
  if (resolved.source && !options.source_given) {
    auto kind = parse_source_kind(resolved.source->value);
    if (!kind)
      throw Error(resolved.source->where + ": invalid source '" + resolved.source->value +
                  "': expected netdev, bpf, proc or compare");
    options.source = *kind;
  }
}

}  // namespace netmon
