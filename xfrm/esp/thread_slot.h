// Small dense ids for data-path threads, so each SA can cache one set of
// expanded-key cipher contexts per thread (no EVP_CIPHER_CTX_new per packet)
// without a lock. A thread's slot returns to the pool when the thread exits.
#pragma once

#include <cstddef>

namespace ergw::xfrm::esp {

// The calling thread's slot in [0, kMaxDataPathThreads), acquired on first
// use; kMaxDataPathThreads if all slots are taken.
size_t current_thread_slot();

}  // namespace ergw::xfrm::esp
