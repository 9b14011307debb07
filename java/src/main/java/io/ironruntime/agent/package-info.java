/**
 * Agent processes: launching a Python agent in its own process group ({@link io.ironruntime.agent.AgentLaunch}),
 * signalling and watching it ({@link io.ironruntime.agent.AgentProcess}, {@link io.ironruntime.agent.Posix}) and
 * capturing its output ({@link io.ironruntime.agent.AgentOutput}). Linux and macOS.
 *
 * <p>What keeps agents from outliving their supervisor:
 * <ul>
 * <li>When an agent process exits, the rest of its process group is SIGKILLed at once.</li>
 * <li>On Linux, the kernel SIGKILLs an agent process when the JVM dies in any way, {@code kill -9}
 *     included (PR_SET_PDEATHSIG, set by the launch prelude). Processes the agent started itself are
 *     not covered by that: after a {@code kill -9} of the JVM they are re-parented and keep running
 *     (stopping the agents, e.g. from a shutdown hook, covers them for every other kind of exit).</li>
 * <li>On macOS there is no parent-death signal: only an orderly stop covers the agents.</li>
 * </ul>
 */
package io.ironruntime.agent;
