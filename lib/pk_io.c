/* SPDX-License-Identifier: MIT */
#include "pk_io.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_time.h"

static int out_unbuffered;
static char *dumpbuf;
static size_t dumpcap;

void
pk_die_sigpipe(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
}

static void
out_failed(void)
{
	int e = errno;

	if (e == EPIPE)
		pk_die_sigpipe();
	/* Do not try to flush stdout again on exit. */
	errno = e;
	pk_warn_errno("write error on standard output");
	_exit(PK_EXIT_IO);
}

void
pk_out_init(int unbuffered)
{
	struct stat st;

	out_unbuffered = unbuffered;
	/* A large buffer for files and pipes; a terminal is line-buffered. */
	if (fstat(STDOUT_FILENO, &st) == 0 && !S_ISCHR(st.st_mode))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
}

void
pk_out_write(const char *buf, size_t len)
{
	if (len > 0 && fwrite(buf, 1, len, stdout) != len)
		out_failed();
}

void
pk_out_line(const char *buf, size_t len)
{
	pk_out_write(buf, len);
	if (putchar_unlocked('\n') == EOF)
		out_failed();
	if (out_unbuffered)
		pk_out_idle();
}

void
pk_out_printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(stdout, fmt, ap);
	va_end(ap);
	if (r < 0)
		out_failed();
}

/*
 * 15 significant digits: an event time (10 integer digits) keeps its
 * milliseconds; 10 digits printed 1732300000.125 as 1732300000.0.
 */
void
pk_emit_json(const json_t *obj)
{
	size_t n;

	n = json_dumpb(obj, dumpbuf, dumpcap, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (n > dumpcap) {
		char *p;

		p = realloc(dumpbuf, n + 1024);
		if (p == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		dumpbuf = p;
		dumpcap = n + 1024;
		n = json_dumpb(obj, dumpbuf, dumpcap, JSON_COMPACT | JSON_REAL_PRECISION(15));
	}
	if (n == 0)
		pk_die(PK_EXIT_IO, "cannot serialise a record");
	pk_out_line(dumpbuf, n);
}

void
pk_out_record_done(void)
{
	if (out_unbuffered)
		pk_out_idle();
}

void
pk_out_idle(void)
{
	if (fflush(stdout) == EOF)
		out_failed();
}

void
pk_close_stdout(void)
{
	free(dumpbuf);
	dumpbuf = NULL;
	dumpcap = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		out_failed();
	if (fclose(stdout) == EOF)
		out_failed();
}

int
pk_atomic_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = buf, *slash;
	size_t off = 0;
	int fd, dfd, e;

	int tries;

	/*
	 * A name nobody can guess, created only if it does not exist and
	 * never through a symbolic link: in a shared directory (/tmp) another
	 * user cannot make us write through a link planted in advance.
	 */
	for (tries = 0;; tries++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (uint64_t)pk_mono_ns() ^ ((uint64_t)getpid() << 32);
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%016llx", path,
		    (long)getpid(), (unsigned long long)r) >= (int)sizeof(tmp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
		if (fd != -1)
			break;
		if (errno != EEXIST || tries >= 16)
			return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int
pk_atomic_sweep(const char *path)
{
	char dir[PATH_MAX], stale[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	struct dirent *de;
	size_t blen;
	DIR *d;
	int n = 0;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
		base = slash + 1;
	}
	blen = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;
		char *end;
		long pid;

		if (strncmp(p, base, blen) != 0 ||
		    strncmp(p + blen, ".tmp.", 5) != 0)
			continue;
		p += blen + 5;
		if (*p < '1' || *p > '9')
			continue;
		errno = 0;
		pid = strtol(p, &end, 10);
		/* PATH.tmp.PID, or PATH.tmp.PID.RANDOM (16 hex digits). */
		if (*end == '.' && strlen(end + 1) == 16 &&
		    strspn(end + 1, "0123456789abcdef") == 16)
			end += 17;
		if (*end != '\0' || errno != 0 || pid <= 0 || pid > INT_MAX)
			continue;
		/* A writer that still runs is mid-write: leave its file. */
		if (pid != (long)getpid() &&
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (snprintf(stale, sizeof(stale), "%s/%s", dir,
		    de->d_name) >= (int)sizeof(stale))
			continue;
		if (unlink(stale) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
pk_read_file(const char *path, char **bufp, size_t *lenp)
{
	return pk_read_file_max(path, SIZE_MAX / 2, bufp, lenp);
}

int
pk_read_file_max(const char *path, size_t max, char **bufp, size_t *lenp)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				errno = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
fail:
	e = errno;
	close(fd);
	free(buf);
	errno = e;
	return -1;
}
