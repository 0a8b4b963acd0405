// SPDX-License-Identifier: MIT
/* Placeholder: the x86 format is being written; pt_cfg_init() refuses it until then. */
#include <errno.h>

#include "pt/pt.h"

static int x86_cfg_init(struct pt_cfg *c)
{
	return -EOPNOTSUPP;
}

const struct pt_fmt pt_fmt_x86 = {
	.name = "x86",
	.cfg_init = x86_cfg_init,
};
