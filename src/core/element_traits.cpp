// element_traits.cpp — the one message for a dtype the quantizer cannot read, shared by the
// reference twins, both backends and the kernels' launchers.
#include "core/element_traits.hpp"

namespace qfp8 {

Error unsupported_source_error(Dtype dtype, const std::string& tensor) {
  return Error(ErrorCode::Internal, "", tensor,
               "cannot quantize a " + std::string(dtype_name(dtype)) +
                   " tensor: only F16, BF16 and F32 sources are supported");
}

}  // namespace qfp8
