// Settings that do not come from argv alone: the interface selection
// (argv > netmon.conf > UCI > all, see config/selection.h) and UCI's
// interval and source, which apply only where the command line is silent.
#pragma once

#include "app/options.h"
#include "config/selection.h"

namespace netmon {

// Resolves where the interfaces come from. Throws Error.
ResolvedSelection resolve_interfaces(const Options& options);

// Copies UCI's interval and source into `options` unless given on the
// command line. Throws Error "<path>:<line>: invalid interval ...".
void apply_uci_settings(const ResolvedSelection& resolved, Options& options);

}  // namespace netmon
