/* SPDX-License-Identifier: MIT */
/*
 * Internal descriptors: the library's own file descriptors in the program's
 * fd table, which in Linux would be kernel references and no numbers at all
 * (our duplicate of an eventfd the program gave VFIO, the virqfd watcher's
 * epoll and wake-up fds, the fork channels' sockets, the backing fd the
 * owner keeps of a file made for a forked child).
 *
 * A program cannot know these numbers, but it can hit them: close_range(3,
 * ~0U, 0) before exec or in a daemon, closefrom(), dup2() onto a number it
 * thinks free. The registry lists them, so the preload shim can keep the
 * program's hands off (close_range split around them, close() of one
 * EBADF, dup2() onto one moves ours away first), and so a holder can ask
 * which of a process's numbers are its own (virqfd.c's hang-up scan).
 *
 * Names. A holder keeps the number intfd_add() gave it (its "name") and
 * resolves it with intfd_fd() at each use: when the program dup2()s onto
 * an internal number, intfd_move() gives the descriptor a new number and
 * the name then resolves to it. Names stay unique: a new descriptor whose
 * number is still the name of a moved one is renumbered by intfd_add().
 * Moves are rare (never, in a program that does not dup2 blind); until the
 * first, intfd_fd() is one relaxed load.
 *
 * Every internal descriptor is close-on-exec: intfd_add() checks (and sets)
 * it, so an exec never leaks one.
 *
 * Concurrency. intfd_has() and intfd_fd() take no lock (a program thread's
 * close() asks intfd_has() for every descriptor while any internal one
 * exists). Changes (add, del, move) take the registry's mutex. A thread
 * that resolves a name and uses the number inside the fork gate
 * (util/forkgate.h) can never see the number change under it: moves and
 * the program's close_range() happen with the gate closed
 * (fork_gate_lock()). A thread that cannot wait inside the gate uses the
 * registry's own users' gate instead (intfd_user_enter()).
 */
#ifndef UIOMMU_UTIL_INTFD_H
#define UIOMMU_UTIL_INTFD_H

#include <stdbool.h>

/*
 * Register the descriptor *@fd (just made by the library; O_CLOEXEC is set
 * if it was not). When *@fd is the name of a moved descriptor, it is
 * renumbered first (*@fd changes). 0, or -ENOMEM / -EMFILE with *@fd
 * untouched and still open (the caller closes it).
 */
int intfd_add(int *fd);

/* Unregister @name (before the caller closes or hands on its number); nothing if not internal. */
void intfd_del(int name);

/*
 * Unregister *@name and return its number (for a lower layer that closes it
 * itself); *@name becomes -1. -1 for -1.
 */
int intfd_take(int *name);

/* intfd_del() then close(2) of the number; *@name becomes -1. Nothing for -1. */
void intfd_close(int *name);

/* The number behind @name (itself unless moved); -1 for -1. */
int intfd_fd(int name);

/* Is @fd (a number) one of the library's internal descriptors? Lock-free. */
bool intfd_has(int fd);

/* Any internal descriptor at all (one relaxed load)? */
bool intfd_any(void);

/* The lowest internal number >= @from, or -1. */
int intfd_next(unsigned int from);

/*
 * Give the internal descriptor at number @fd another number (close-on-exec,
 * high when the limit allows), so that the program may have @fd. Callers
 * hold the fork gate closed (fork_gate_lock()). 0 (also when @fd is not
 * internal), or -ENOMEM / -EMFILE with nothing changed.
 */
int intfd_move(int fd);

/*
 * Called by intfd_move() after the new number exists and before the old one
 * is given up, with the gate closed: a holder that registered @oldfd with
 * the kernel by number (an epoll set) re-registers it. One hook a process.
 */
void intfd_set_move_hook(void (*hook)(int name, int oldfd, int newfd));

/*
 * Users outside the fork gate. A thread that must use internal numbers
 * while it is not inside the fork gate (lib/uiommu_remote.c's agent
 * thread, which must answer its owner while a call of its process waits
 * inside) brackets each resolution and the system calls that use the
 * number with intfd_user_enter() / intfd_user_exit(), and never waits
 * there for anything but its descriptors (a poll() that the kick ends).
 * intfd_move() waits until no user is inside and keeps new ones out
 * while it moves, so such a user never holds a number that has become
 * the program's. The kick (one a process) is called with @start true
 * before the wait, so that a user blocked inside (in poll()) leaves, and
 * with @start false once the move is done and before users enter again.
 */
void intfd_user_enter(void);
void intfd_user_exit(void);
void intfd_set_user_kick(void (*kick)(bool start));

/*
 * The program's dup2() / dup3() onto @fd (the preload shim, after moving
 * ours off it): when @fd is where the library makes its numbers, true with
 * the numbering lock held, so that no number of ours is being made or given
 * up there meanwhile; the caller checks again that @fd is not internal,
 * makes the call, and unlocks. false (nothing held) otherwise.
 */
bool intfd_number_lock(int fd);
void intfd_number_unlock(void);

/* How many internal descriptors (tests). */
unsigned int intfd_count(void);

/* fork() child (in the gate's child handler): the registry's lock is free again. */
void intfd_fork_child(void);

#endif
