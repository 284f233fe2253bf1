// What a page leaves running (polling, the graph) is stopped when another page opens.

let leaving = [];

export function onLeave(stop) {
  leaving.push(stop);
}

export function leavePage() {
  const stops = leaving;
  leaving = [];
  for (const stop of stops) {
    try {
      stop();
    } catch {
      // a page that is gone cannot fail the next one
    }
  }
}
