// SPDX-License-Identifier: MIT
/* Placeholder: the tce format is being written; pt_cfg_init() refuses it until then. */
#include <errno.h>

#include "pt/pt.h"

static int tce_cfg_init(struct pt_cfg *c)
{
	return -EOPNOTSUPP;
}

const struct pt_fmt pt_fmt_tce = {
	.name = "tce",
	.cfg_init = tce_cfg_init,
};
