/* slow_fsync.c: an LD_PRELOAD shim that makes every fsync/fdatasync of the
 * process it is loaded into take at least SLOW_FSYNC_US microseconds more,
 * to play a slow or busy disk under redis-server (appendfsync always) in a
 * repeatable way: bench/pool_sweep.sh measures how the receiver's Redis
 * connection pool copes. Not for anything but benchmarks.
 *
 *   cc -shared -fPIC -O2 -o slow_fsync.so bench/slow_fsync.c -ldl
 *   SLOW_FSYNC_US=2000 LD_PRELOAD=./slow_fsync.so redis-server ...
 *
 * Each call is also counted, when SLOW_FSYNC_COUNT names a file: the file
 * is mapped shared and holds the count as one unsigned 64-bit integer
 * (read it with `od -An -t u8 FILE`), so counting costs no system call and
 * a benchmark can read fsyncs per request. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_us = -1;
static volatile unsigned long long *counter;

static void slow(void)
{
    if (delay_us < 0) {
        const char *e = getenv("SLOW_FSYNC_US");
        delay_us = e ? atol(e) : 0;
        const char *path = getenv("SLOW_FSYNC_COUNT");
        int fd = path ? open(path, O_RDWR | O_CREAT, 0644) : -1;
        if (fd >= 0 && ftruncate(fd, sizeof *counter) == 0) {
            void *m = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (m != MAP_FAILED)
                counter = m;
        }
        if (fd >= 0)
            close(fd);
    }
    if (counter)
        __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
    if (delay_us > 0) {
        struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
    }
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}
