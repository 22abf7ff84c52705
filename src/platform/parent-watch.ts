/**
 * Processes that must not outlive the one that started them (the demo's server and worker, the demo itself under
 * npm). A parent killed hard (SIGKILL, a closed terminal, an npm that died of SIGHUP) cannot forward a signal, so
 * the child notices instead: its IPC channel to the parent closes, or its parent pid changes (re-parented to init
 * or a subreaper).
 */

/** When this process was spawned with an IPC channel: calls `onGone` once the channel closes. Returns whether it watches. */
export function exitWithIpcParent(onGone: () => void): boolean {
  if (!process.channel) return false;
  // The channel is only a lifeline: it must not keep a process alive that has otherwise finished.
  process.channel.unref();
  process.once("disconnect", onGone);
  return true;
}

/** Polls the parent pid; calls `onGone` once it changes. Returns a function that stops watching. */
export function exitWithParentPid(onGone: () => void, pollMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
