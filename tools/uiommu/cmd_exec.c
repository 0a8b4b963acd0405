// SPDX-License-Identifier: MIT
/*
 * cmd_exec.c - `uiommu exec`: run an unmodified program with libuiommu in
 * place of the kernel's /dev/iommu (and, with the VFIO layer, /dev/vfio).
 *
 * The program runs with the preload shim (libuiommu-preload.so) first in
 * LD_PRELOAD. The shim is found, in this order: $UIOMMU_PRELOAD; the build
 * tree this binary belongs to (build/preload/, when the binary is
 * build/tools/uiommu/uiommu); the install location fixed at build time.
 * What the library reads from the environment is set here:
 *
 *   UIOMMU_TRACE         --trace PATTERNS (checked here first)
 *   UIOMMU_CONFIG        --config FILE, the machine topology (lib/vmm,
 *                        doc/topology.md), as an absolute path; loaded here
 *                        first with the library's own loader, so a bad file
 *                        is a usage error (exit 2, "FILE:LINE:COL: ...")
 *                        before the program runs. Without --config, a
 *                        UIOMMU_CONFIG from the environment is checked the
 *                        same way and passed on (absolute too); with
 *                        neither, the program gets the default topology
 *   UIOMMU_SUMMARY_FILE  --summary[=FILE]: every process that used the
 *                        library appends its summary there at exit
 *   UIOMMU_DEBUGFS_DIR   a private directory made here and removed when the
 *                        program is done, the stand-in for /sys/kernel/debug
 *                        (uiommu_path_redirect()), so it is cleaned up even
 *                        when the program is killed
 *
 * The program runs in a child (fork + execvp) while this process waits,
 * ignoring SIGINT and SIGQUIT as system(3) does (the terminal's signals go
 * to the program, which shares our process group). The exit status is the
 * program's, or 128 + the signal that killed it; 126 / 127 when it could
 * not be run (as sh and env say); 1 when something here failed, 2 for a
 * usage error. --print-topology[=json] prints the topology the program
 * would get (to stdout, and exits 0, when no PROGRAM is given; to stderr
 * before running it otherwise).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "util/rmtree.h"
#include "vmm/topology.h"

#define CMD	     "exec"
#define PRELOAD_NAME "libuiommu-preload.so"

void cmd_exec_usage(FILE *f)
{
	fprintf(f, "usage: uiommu exec [--config FILE] [--trace PATTERNS] [--summary[=FILE]]\n"
		   "                   [--print-topology[=json]] [--] PROGRAM [ARGS...]\n"
		   "       uiommu exec [--config FILE] --print-topology[=json]\n"
		   "\n"
		   "Run PROGRAM with the preload shim, so that its /dev/iommu (and /dev/vfio)\n"
		   "is libuiommu's: open, ioctl, mmap, read, write, poll, dup, fork work as on\n"
		   "the real device, with no IOMMU and no privileges.\n"
		   "\n"
		   "Options:\n"
		   "  -c, --config FILE     the machine topology: IOMMU instances, devices, VFIO\n"
		   "                        groups (JSON, see uiommu-exec(1); checked here, then\n"
		   "                        passed on as UIOMMU_CONFIG); default: one SMMUv3\n"
		   "                        with dmatest devices 0000:00:01.0 (group 1) and\n"
		   "                        0000:00:02.0 (group 2)\n"
		   "  -p, --print-topology[=json]\n"
		   "                        print the topology (text, or a topology file with\n"
		   "                        every default written out): alone, to stdout; with\n"
		   "                        PROGRAM, to stderr before running it\n"
		   "  -t, --trace PATTERNS  log trace events matching comma-separated globs to\n"
		   "                        stderr (\"iommufd_*,-iommufd_open\"; UIOMMU_TRACE)\n"
		   "  -s, --summary[=FILE]  after the program, a summary of what each of its\n"
		   "                        processes did with the library (files, objects,\n"
		   "                        ioctls by result, DMA, faults): to stderr, or\n"
		   "                        written to FILE\n"
		   "  -h, --help            show this help\n"
		   "\n"
		   "The shim: $UIOMMU_PRELOAD, else the build tree's, else the installed one.\n"
		   "Exit status: PROGRAM's, 128+N when signal N killed it, 126/127 when it\n"
		   "could not be run, 1 on another failure, 2 on a usage error (a bad\n"
		   "topology file among them).\n"
		   "See uiommu-exec(1).\n");
}

static const struct option exec_longopts[] = {
	{"config", required_argument, NULL, 'c'}, {"print-topology", optional_argument, NULL, 'p'},
	{"trace", required_argument, NULL, 't'},  {"summary", optional_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},	  {0},
};

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* The shim to preload, or NULL (with a message) when none can be found. */
static const char *find_preload(char *buf, size_t size)
{
	const char *env = getenv("UIOMMU_PRELOAD");
	char exe[PATH_MAX];
	size_t broot = strlen(UIOMMU_BUILDDIR);
	ssize_t n;

	if (env && *env) {
		if (!is_file(env)) {
			warnx("UIOMMU_PRELOAD=%s: not a file", env);
			return NULL;
		}
		return env;
	}
	/* A binary inside the build tree uses that tree's shim. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (!strncmp(exe, UIOMMU_BUILDDIR, broot) && exe[broot] == '/' &&
		    (size_t)snprintf(buf, size, "%s/preload/%s", UIOMMU_BUILDDIR, PRELOAD_NAME) <
			    size &&
		    is_file(buf))
			return buf;
	}
	if (is_file(UIOMMU_PRELOAD_INSTALLED))
		return UIOMMU_PRELOAD_INSTALLED;
	warnx("cannot find %s (looked in $UIOMMU_PRELOAD and %s); set UIOMMU_PRELOAD", PRELOAD_NAME,
	      UIOMMU_PRELOAD_INSTALLED);
	return NULL;
}

/* setenv() of "NAME" to "@first:old" (or @first alone). */
static int prepend_env(const char *name, const char *first)
{
	const char *old = getenv(name);
	char *v;
	int rc;

	if (!old || !*old)
		return setenv(name, first, 1);
	if (asprintf(&v, "%s:%s", first, old) < 0)
		return -1;
	rc = setenv(name, v, 1);
	free(v);
	return rc;
}

/* The canonical absolute path of an existing file, for a child that may chdir. */
static char *absolute(const char *path)
{
	return realpath(path, NULL);
}

static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/* Copy the summary file to stderr; say so when no process used the library. */
static void print_summary(const char *path)
{
	char buf[4096];
	size_t n, total = 0;
	FILE *f = fopen(path, "re");

	if (f) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			fwrite(buf, 1, n, stderr);
			total += n;
		}
		fclose(f);
	}
	if (!total)
		fprintf(stderr, "uiommu summary: no process opened an emulated file\n");
}

/*
 * The topology the program will get: the file @config, else the default.
 * NULL after a message ("uiommu exec: FILE:LINE:COL: ..."), with *usage set
 * when the file is at fault.
 */
static struct topology *load_topology(const char *config, bool *usage)
{
	struct topology *t = NULL;
	char msg[1024];
	int rc;

	*usage = false;
	if (config)
		rc = topology_load(config, &t, msg, sizeof(msg));
	else
		rc = topology_default(&t);
	if (!rc)
		return t;
	*usage = rc == -EINVAL;
	if (rc == -EINVAL)
		fprintf(stderr, "uiommu " CMD ": %s\n", msg);
	else
		warnx("%s: %s", config ? config : "the default topology", strerror(-rc));
	return NULL;
}

static int print_topology(const struct topology *t, const char *format, FILE *f)
{
	int rc = format && !strcmp(format, "json") ? topology_print_json(t, f)
						   : topology_print_text(t, f);

	if (rc || fflush(f)) {
		warnx("printing the topology: %s", strerror(rc ? -rc : errno));
		return 1;
	}
	return 0;
}

/* Run argv in a child; its status as an exit code. */
static int run(char **argv)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	int status, e;
	pid_t pid;

	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		warn("fork");
		return 1;
	}
	if (!pid) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		e = errno;
		warnx("%s: %s", argv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			warn("waitpid");
			return 1;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int cmd_exec(int argc, char **argv)
{
	const char *config = NULL, *trace = NULL, *summary_arg = NULL, *preload;
	const char *print_fmt = NULL;
	char preload_buf[PATH_MAX], debugfs[PATH_MAX], summary_tmp[PATH_MAX];
	char *summary_path = NULL, *config_abs = NULL;
	bool summary = false, summary_to_stderr = false, print = false, usage;
	struct topology *topo;
	int c, fd, rc = 1;

	while ((c = cli_getopt(CMD, argc, argv, "+c:p::t:s::h", exec_longopts)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			print = true;
			print_fmt = optarg;
			if (print_fmt && strcmp(print_fmt, "json") && strcmp(print_fmt, "text"))
				cli_usage_error(CMD, "--print-topology=%s: expected json or text",
						print_fmt);
			break;
		case 't':
			trace = optarg;
			break;
		case 's':
			summary = true;
			summary_arg = optarg;
			break;
		case 'h':
			cmd_exec_usage(stdout);
			return 0;
		}
	}
	if (optind >= argc && !print)
		cli_usage_error(CMD, "expected a PROGRAM to run");
	if (summary_arg && !*summary_arg)
		cli_usage_error(CMD, "--summary=: expected a file name");
	if (trace)
		cli_trace(CMD, trace); /* a usage error when nothing matches */

	/* The library's own loader: a bad file stops here, before anything runs. */
	if (!config && getenv("UIOMMU_CONFIG") && *getenv("UIOMMU_CONFIG"))
		config = getenv("UIOMMU_CONFIG");
	topo = load_topology(config, &usage);
	if (!topo)
		return usage ? EXIT_USAGE : 1;
	if (print) {
		rc = print_topology(topo, print_fmt, optind >= argc ? stdout : stderr);
		if (rc || optind >= argc) {
			topology_free(topo);
			return rc;
		}
	}
	topology_free(topo);
	rc = 1;
	if (config) {
		config_abs = absolute(config);
		if (!config_abs || setenv("UIOMMU_CONFIG", config_abs, 1))
			err(1, "--config");
	}
	preload = find_preload(preload_buf, sizeof(preload_buf));
	if (!preload)
		goto out;
	if (cli_verbose)
		fprintf(stderr, "uiommu exec: preloading %s\n", preload);
	if (prepend_env("LD_PRELOAD", preload))
		err(1, "LD_PRELOAD");
	if (trace && setenv("UIOMMU_TRACE", trace, 1))
		err(1, "UIOMMU_TRACE");

	if (summary) {
		if (summary_arg) {
			fd = open(summary_arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0)
				err(1, "--summary=%s", summary_arg);
			close(fd);
			summary_path = absolute(summary_arg);
		} else {
			snprintf(summary_tmp, sizeof(summary_tmp), "%s/uiommu-summary.XXXXXX",
				 tmpdir());
			fd = mkostemp(summary_tmp, O_CLOEXEC);
			if (fd < 0)
				err(1, "%s", summary_tmp);
			close(fd);
			summary_path = strdup(summary_tmp);
			summary_to_stderr = true;
		}
		if (!summary_path || setenv("UIOMMU_SUMMARY_FILE", summary_path, 1))
			err(1, "--summary");
	} else {
		unsetenv("UIOMMU_SUMMARY_FILE");
	}

	snprintf(debugfs, sizeof(debugfs), "%s/uiommu-debugfs.XXXXXX", tmpdir());
	if (!mkdtemp(debugfs) || setenv("UIOMMU_DEBUGFS_DIR", debugfs, 1)) {
		warn("%s", debugfs);
		if (summary_to_stderr)
			unlink(summary_path);
		goto out;
	}

	rc = run(argv + optind);

	remove_tree(AT_FDCWD, debugfs);
	if (summary_to_stderr) {
		print_summary(summary_path);
		unlink(summary_path);
	}
out:
	free(summary_path);
	free(config_abs);
	return rc;
}
