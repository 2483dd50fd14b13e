"""Peer for `npm run bench -- ingest`: the plain Python/OpenCV pipeline computing the same 3-fps flow
trajectory (VMR FeatureExtraction/flowProcessor.py: cv2.VideoCapture, time-accumulator sampling at
min(3, fps), cv2.resize 320x240 INTER_LINEAR, BGR2GRAY, Farneback (0.5, 3, 15, 3, 5, 1.2, 0), mean
magnitude) over a list of videos with a pool of N worker processes (one OpenCV thread each).

Usage: python opencv_trajectory.py --workers N VIDEO...   -> one JSON line on stdout.
Needs opencv-python(-headless) and numpy (e.g. a venv outside the repo: see bench/README in ingest.ts).
"""
import argparse
import json
import multiprocessing as mp
import time


def trajectory(path):
    import cv2

    cv2.setNumThreads(1)
    cap = cv2.VideoCapture(path)
    native = cap.get(cv2.CAP_PROP_FPS)
    target = min(3.0, native)
    t_cur = t_next = 0.0
    frames = []
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if t_cur >= t_next:
            frames.append(cv2.cvtColor(cv2.resize(frame, (320, 240)), cv2.COLOR_BGR2GRAY))
            t_next += 1.0 / target
        t_cur += 1.0 / native
        n += 1
    cap.release()
    traj = []
    for a, b in zip(frames[:-1], frames[1:]):
        f = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        traj.append(cv2.mean(cv2.magnitude(f[..., 0], f[..., 1]))[0])
    if traj:
        traj.insert(0, traj[0])
    return {"path": path, "seconds": n / native if native else 0.0, "samples": len(traj), "trajectory": traj}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("videos", nargs="+")
    a = ap.parse_args()
    import cv2

    t_start = time.perf_counter()
    with mp.get_context("fork").Pool(a.workers) as pool:
        pool.map(abs, range(a.workers))  # start the workers before timing
        t0 = time.perf_counter()
        res = pool.map(trajectory, a.videos, chunksize=1)
        wall = time.perf_counter() - t0
    secs = sum(r["seconds"] for r in res)
    print(json.dumps({"cv2": cv2.__version__, "workers": a.workers, "videos": len(res), "seconds": secs, "wall": wall,
                      "startup": t0 - t_start, "xRealTime": secs / wall if wall > 0 else None,
                      "trajectories": {r["path"]: r["trajectory"] for r in res}}))


if __name__ == "__main__":
    main()
