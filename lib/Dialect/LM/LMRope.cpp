//===- LMRope.cpp - Rotary embedding frequencies --------------------------===//
//
// The rotary frequencies of `lm.rope`, following Hugging Face's
// `modeling_rope_utils.py`. The importer resolves version-dependent choices
// (YaRN's factor override, its attention factor) into the `scaling`
// dictionary, so this file only evaluates the formulas.
//
//===----------------------------------------------------------------------===//

#include "lmc/Dialect/LM/LMOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

namespace {
/// The fields each rope_type needs in the `scaling` dictionary.
struct ScalingSchema {
  StringRef type;
  SmallVector<StringRef> required;
  SmallVector<StringRef> optional;
};
} // namespace

static const ScalingSchema *findSchema(StringRef type) {
  static const ScalingSchema schemas[] = {
      {"linear", {"factor"}, {}},
      {"llama3",
       {"factor", "low_freq_factor", "high_freq_factor",
        "original_max_position_embeddings"},
       {}},
      {"yarn",
       {"factor", "original_max_position_embeddings"},
       {"beta_fast", "beta_slow", "truncate", "attention_factor"}},
  };
  for (const ScalingSchema &s : schemas)
    if (s.type == type)
      return &s;
  return nullptr;
}

static double getNumber(DictionaryAttr dict, StringRef key, double fallback) {
  Attribute a = dict ? dict.get(key) : Attribute();
  if (auto f = dyn_cast_if_present<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_if_present<IntegerAttr>(a))
    return static_cast<double>(i.getInt());
  return fallback;
}

LogicalResult RopeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  if (in.getRank() != 4)
    return emitOpError("expected 'input' of rank 4 ([B, T, H, D]), got rank ")
           << in.getRank();
  auto pos = cast<RankedTensorType>(getPositions().getType());
  if (pos.getRank() != 2)
    return emitOpError("expected 'positions' of rank 2, got rank ")
           << pos.getRank();
  if ((!ShapedType::isDynamic(pos.getDimSize(0)) &&
       !ShapedType::isDynamic(in.getDimSize(0)) &&
       pos.getDimSize(0) != in.getDimSize(0)) ||
      (!ShapedType::isDynamic(pos.getDimSize(1)) &&
       !ShapedType::isDynamic(in.getDimSize(1)) &&
       pos.getDimSize(1) != in.getDimSize(1)))
    return emitOpError("expected 'positions' ")
           << pos << " to match the batch and tokens of " << in;
  int64_t headDim = in.getDimSize(3);
  if (ShapedType::isDynamic(headDim))
    return emitOpError("expected a static head dim in 'input'");
  int64_t dim = static_cast<int64_t>(getRotaryDim());
  int64_t offset = static_cast<int64_t>(getRotaryOffset());
  if (dim <= 0 || dim % 2 != 0 ||
      (!ShapedType::isDynamic(headDim) && dim > headDim))
    return emitOpError("expected 'rotary_dim' to be even and in [2, ")
           << headDim << "], got " << dim;
  if (offset < 0 || (!ShapedType::isDynamic(headDim) && offset + dim > headDim))
    return emitOpError("expected rotated channels [")
           << offset << ", " << offset + dim << ") within the head dim "
           << headDim;
  if (getTheta().convertToDouble() <= 0)
    return emitOpError("expected a positive 'theta', got ")
           << getTheta().convertToDouble();
  DictionaryAttr scaling = getScalingAttr();
  if (!scaling)
    return success();
  auto type = dyn_cast_if_present<StringAttr>(scaling.get("rope_type"));
  if (!type)
    return emitOpError("expected 'scaling' to name its 'rope_type'");
  const ScalingSchema *schema = findSchema(type.getValue());
  if (!schema)
    return emitOpError("unsupported rope_type '")
           << type.getValue() << "' (expected linear, llama3 or yarn)";
  for (NamedAttribute field : scaling) {
    StringRef key = field.getName().getValue();
    if (key == "rope_type")
      continue;
    if (!llvm::is_contained(schema->required, key) &&
        !llvm::is_contained(schema->optional, key))
      return emitOpError("unexpected field '")
             << key << "' in " << type.getValue() << " rope scaling";
    if (key == "truncate" ? !isa<BoolAttr>(field.getValue())
                          : !isa<FloatAttr, IntegerAttr>(field.getValue()))
      return emitOpError("expected rope scaling field '")
             << key << "' to be " << (key == "truncate" ? "a bool" : "a number");
  }
  for (StringRef key : schema->required)
    if (!scaling.get(key))
      return emitOpError("expected field '")
             << key << "' in " << type.getValue() << " rope scaling";
  if (getNumber(scaling, "factor", 1.0) <= 0)
    return emitOpError("expected a positive rope scaling 'factor'");
  return success();
}

void RopeOp::computeFrequencies(SmallVectorImpl<double> &invFreq,
                                double &attentionFactor) {
  const double theta = getTheta().convertToDouble();
  const int64_t dim = getRotaryDim();
  invFreq.clear();
  for (int64_t i = 0; i < dim / 2; ++i)
    invFreq.push_back(1.0 / std::pow(theta, double(2 * i) / double(dim)));
  attentionFactor = 1.0;

  DictionaryAttr scaling = getScalingAttr();
  if (!scaling)
    return;
  StringRef type = cast<StringAttr>(scaling.get("rope_type")).getValue();
  const double factor = getNumber(scaling, "factor", 1.0);
  const double original =
      getNumber(scaling, "original_max_position_embeddings", 0.0);
  if (type == "linear") {
    for (double &f : invFreq)
      f /= factor;
    return;
  }
  if (type == "llama3") {
    const double low = getNumber(scaling, "low_freq_factor", 1.0);
    const double high = getNumber(scaling, "high_freq_factor", 4.0);
    const double lowWavelen = original / low, highWavelen = original / high;
    for (double &f : invFreq) {
      double wavelen = 2 * M_PI / f;
      if (wavelen > lowWavelen) {
        f /= factor;
      } else if (wavelen >= highWavelen) {
        double s = (original / wavelen - low) / (high - low);
        f = (1 - s) * f / factor + s * f;
      }
    }
    return;
  }
  // yarn
  const double betaFast = getNumber(scaling, "beta_fast", 32.0);
  const double betaSlow = getNumber(scaling, "beta_slow", 1.0);
  auto truncAttr = dyn_cast_if_present<BoolAttr>(scaling.get("truncate"));
  const bool truncate = truncAttr ? truncAttr.getValue() : true;
  auto correction = [&](double rotations) {
    return dim * std::log(original / (rotations * 2 * M_PI)) /
           (2 * std::log(theta));
  };
  double low = correction(betaFast), high = correction(betaSlow);
  if (truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim - 1));
  if (low == high)
    high += 0.001;
  for (int64_t i = 0; i < dim / 2; ++i) {
    double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
    double extrapolation = 1.0 - ramp;
    invFreq[i] = invFreq[i] * ((1 - extrapolation) / factor + extrapolation);
  }
  attentionFactor = getNumber(scaling, "attention_factor",
                              factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0);
}
