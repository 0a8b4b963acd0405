// SPDX-License-Identifier: MIT
/* Placeholder: the vtd_ss format is being written; pt_cfg_init() refuses it until then. */
#include <errno.h>

#include "pt/pt.h"

static int vtd_ss_cfg_init(struct pt_cfg *c)
{
	return -EOPNOTSUPP;
}

const struct pt_fmt pt_fmt_vtd_ss = {
	.name = "vtd_ss",
	.cfg_init = vtd_ss_cfg_init,
};
