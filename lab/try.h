// ERGW_LAB_TRY(status-expression): return the Status from the enclosing
// function when it failed. The lab's build steps are long chains of commands
// that each may fail; this keeps them readable.
#pragma once

#define ERGW_LAB_TRY(expr)             \
  do {                                 \
    ::ergw::Status status_ = (expr);   \
    if (!status_.ok()) return status_; \
  } while (false)
