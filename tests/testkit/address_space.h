// A cap on this process's address space, for death-test children that
// check a size declared by a corrupt file is refused before it is
// allocated: without the cap, a 4 GiB allocation would quietly succeed.
#pragma once

#include <cstdint>

namespace ptscope::test {

// Caps the address space at what the process uses now plus `slack` bytes,
// so a larger allocation fails with bad_alloc. Only for death-test children:
// the cap cannot be lifted.
void limit_address_space(uint64_t slack);

}  // namespace ptscope::test
