/* `coworker policy ...`: check, explain, show and trust. */
#ifndef COWORKER_POLICY_CLI_H
#define COWORKER_POLICY_CLI_H

/* Run the subcommand in argv[1]; argv[0] is "policy". Returns the exit status. */
int policy_cli(int argc, char **argv);

#endif
