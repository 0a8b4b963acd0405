// SPDX-License-Identifier: MIT
/*
 * tests/cli/exec_helper.c - a program for test_exec.py to run under
 * `uiommu exec`. It knows nothing of libuiommu: libc and <linux/iommufd.h>.
 *
 *	exec_helper ioas N       open /dev/iommu, allocate N IOASes, print "ok N"
 *	exec_helper vfio         open /dev/vfio/vfio, print its API version and
 *	                         whether it has TYPE1v2
 *	exec_helper fork         the same (1 IOAS) in the parent and in a child
 *	exec_helper groups       open each of /dev/vfio/0..15 and print the numbers
 *	                         that opened ("groups 1 2"), or the errno of the
 *	                         first open that failed otherwise than ENOENT
 *	exec_helper env NAME     print $NAME (or "(unset)")
 *	exec_helper debugfs      print whether /sys/kernel/debug/failslab opens
 *
 * Exit status 0, or 1 with a message on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

static int alloc_ioas(int n)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "open /dev/iommu: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct iommu_ioas_alloc cmd = {.size = sizeof(cmd)};

		if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd)) {
			fprintf(stderr, "IOMMU_IOAS_ALLOC: %s\n", strerror(errno));
			return 1;
		}
	}
	close(fd);
	printf("ok %d\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "ioas"))
		return alloc_ioas(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "vfio")) {
		int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "open /dev/vfio/vfio: %s\n", strerror(errno));
			return 1;
		}
		printf("api %d type1v2 %d\n", ioctl(fd, VFIO_GET_API_VERSION),
		       ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
		close(fd);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "fork")) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid)
			exit(alloc_ioas(1));
		if (alloc_ioas(1) || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return 1;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "groups")) {
		printf("groups");
		for (int i = 0; i < 16; i++) {
			char path[32];
			int fd;

			snprintf(path, sizeof(path), "/dev/vfio/%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				printf(" %d", i);
				close(fd);
			} else if (errno != ENOENT) {
				printf(" errno %d\n", errno);
				return 1;
			}
		}
		printf("\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "env")) {
		const char *v = getenv(argv[2]);

		printf("%s\n", v ? v : "(unset)");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "debugfs")) {
		DIR *d = opendir("/sys/kernel/debug/failslab");

		printf("%s\n", d ? "present" : strerror(errno));
		if (d)
			closedir(d);
		return 0;
	}
	fprintf(stderr, "usage: exec_helper ioas N | vfio | fork | env NAME | debugfs\n");
	return 1;
}
