/*
 * slurm.h: the hosts of --slurm: the nodes of the Slurm allocation ccmap
 * runs in, each with the CPUs Slurm gave the job there.  A node's jobs go
 * to one ccmap --worker there, started as one job step (hosts.c, with
 * slurm_argv()): never a step per job, which floods the controller.
 */
#ifndef CCMAP_SLURM_H
#define CCMAP_SLURM_H

#include <stddef.h>

#include "sshlogin.h"

/*
 * The CPUs of n nodes from SLURM_JOB_CPUS_PER_NODE's form ("2(x3),1": 2
 * on each of the first three nodes, 1 on the fourth) into cpus[0..n): 0,
 * or -1 if spec is not of that form or does not give n nodes.
 */
int slurm_cpus(const char *spec, unsigned *cpus, size_t n);

/*
 * Add the allocation's nodes to l, in Slurm's order (scontrol show
 * hostnames $SLURM_JOB_NODELIST), each with its CPUs as its ncpu (0 if
 * SLURM_JOB_CPUS_PER_NODE is not set): 0, or
 * CCMAP_EUSAGE with one line in err (not in an allocation, scontrol
 * failed).
 */
int slurm_nodes(struct sshlogins *l, char *err, size_t errlen);

/*
 * The argument vector of the step that runs ccmap (its path on the
 * node) as a worker on node: srun, one task on that node with the job's
 * cpus there (0: not known, not said; else a site that binds tasks to
 * their CPUs would give the worker one), sharing them with the job's
 * other steps (--overlap), its output passed on as it comes (-u: else
 * slurmstepd holds back what follows the last newline; the task's stdout
 * is then a pseudo terminal, in raw mode).  Into argv[0..SLURM_ARGV),
 * pointing into node, ccmap and buf.
 */
#define SLURM_ARGV 12
void slurm_argv(const char *argv[SLURM_ARGV], char buf[32], const char *node,
    unsigned cpus, const char *ccmap);

#endif
