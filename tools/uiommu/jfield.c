// SPDX-License-Identifier: MIT
/*
 * jfield.c - the CLI's scenario files on top of util/json_field.c: their
 * size limit and spelling, and the permission reader (lib/pt's PT_PROT_*
 * bits, which lib/util must not know).
 *
 * Shared by the walk/trace scenario loader (scenario.c) and the run
 * scenario loader (run_scenario.c, run_script.c); the messages are the
 * same spelling everywhere.
 */
#include <errno.h>

#include "jfield.h"
#include "parse.h"
#include "pt/pt.h"

#define JF_FILE_MAX (16u << 20)

int jf_load(struct jf *jf, const char *file, json_t **root, char *err, size_t errlen)
{
	jf_init(jf, file, 0, err, errlen);
	return jf_load_file(jf, JF_FILE_MAX, "larger than 16M, too big for a scenario", root);
}

int jf_get_prot(struct jf *jf, json_t *obj, const char *opath, unsigned int *prot)
{
	json_t *v = json_object_get(obj, "prot");
	char p[JF_PBUF], d[64];

	*prot = PT_PROT_RW;
	if (!v)
		return 0;
	jf_child(p, sizeof(p), opath, "prot");
	if (!json_is_string(v) || parse_prot(json_string_value(v), prot) || !(*prot & PT_PROT_RW))
		return jf_err(jf, p, false,
			      "expected the letters r, w, x, u with r or w (e.g. \"rw\"), got %s",
			      jf_describe(v, d, sizeof(d)));
	return 0;
}
