// Internal to awq-synth: the JSON files that describe a synthetic checkpoint.
#pragma once
#include <string>

#include "tools/synth_checkpoint/synth_checkpoint.h"

namespace awq {

std::string synth_config_json(const SynthPreset& preset, int group_size, AwqLayout layout);
std::string synth_generation_config_json(const SynthPreset& preset);

}  // namespace awq
