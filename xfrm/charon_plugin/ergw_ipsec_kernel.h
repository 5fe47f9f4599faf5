/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * charon's kernel-ipsec backend that hands every SA and policy to
 * ergw-fastpath over the ergw-ipsec control protocol.
 */
#ifndef ERGW_IPSEC_KERNEL_H_
#define ERGW_IPSEC_KERNEL_H_

#include <kernel/kernel_ipsec.h>

kernel_ipsec_t *ergw_ipsec_kernel_create(void);

#endif
