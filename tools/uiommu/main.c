// SPDX-License-Identifier: MIT
/* uiommu - command-line front end (subcommands arrive with their issues). */
#include <stdio.h>
#include <string.h>

#include "config.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("uiommu %s\n", UIOMMU_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: uiommu --version\n");
	return 2;
}
