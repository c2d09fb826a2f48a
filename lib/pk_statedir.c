/* SPDX-License-Identifier: MIT */
#include "pk_statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"

/* Every directory above path (absolute or relative to the cwd). */
static int
check_parents(const char *path, char *err, size_t n)
{
	char buf[PATH_MAX], cwd[PATH_MAX], *slash;
	struct stat st;

	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return pk_err_reason(err, n, errno, "cannot resolve '%s'", path);
		if (snprintf(buf, sizeof(buf), "%s/%s", cwd, path) >=
		    (int)sizeof(buf))
			return pk_err_reason(err, n, 0, "'%s': path too long", path);
	} else if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		return pk_err_reason(err, n, 0, "'%s': path too long", path);
	}
	while ((slash = strrchr(buf, '/')) != NULL) {
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(buf, &st) == -1)
			return pk_err_reason(err, n, errno, "cannot stat '%s'", buf);
		if (st.st_uid != 0 && st.st_uid != geteuid())
			return pk_err_reason(err, n, 0, "'%s', above the state directory, "
			    "belongs to another user", buf);
		if ((st.st_mode & 0022) != 0 && (st.st_mode & S_ISVTX) == 0)
			return pk_err_reason(err, n, 0, "'%s', above the state directory, "
			    "is writable by others (and not sticky)", buf);
		if (slash == buf)
			break;
	}
	return 0;
}

int
pk_statedir_check(const char *dir, char *err, size_t errsize)
{
	struct stat st;

	if (lstat(dir, &st) == -1)
		return pk_err_reason(err, errsize, errno, "cannot use the state "
		    "directory '%s'", dir);
	if (S_ISLNK(st.st_mode))
		return pk_err_reason(err, errsize, 0, "state directory '%s' is a symbolic "
		    "link", dir);
	if (!S_ISDIR(st.st_mode))
		return pk_err_reason(err, errsize, 0, "state directory '%s' is not a "
		    "directory", dir);
	if (st.st_uid != geteuid())
		return pk_err_reason(err, errsize, 0, "state directory '%s' belongs to "
		    "another user", dir);
	if ((st.st_mode & 0022) != 0)
		return pk_err_reason(err, errsize, 0, "state directory '%s' is writable by "
		    "group or others", dir);
	return check_parents(dir, err, errsize);
}

int
pk_statedir_prepare(const char *dir, mode_t mode, int create, char *err,
    size_t errsize)
{
	char buf[PATH_MAX], *p;

	if (create) {
		if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
			return pk_err_reason(err, errsize, 0, "'%s': path too long", dir);
		for (p = buf + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(buf, 0755) == -1 && errno != EEXIST)
				return pk_err_reason(err, errsize, errno,
				    "cannot create '%s'", buf);
			*p = '/';
		}
		if (mkdir(dir, mode) == -1 && errno != EEXIST)
			return pk_err_reason(err, errsize, errno, "cannot create the state "
			    "directory '%s'", dir);
	}
	return pk_statedir_check(dir, err, errsize);
}

int
pk_statedir_open(const char *dir, const char *name, int flags, mode_t mode)
{
	int dfd, fd, e;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return -1;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}
