"""How the microbenchmarks time an anchor (a PyTorch call) on the GPU: a few
warm-up calls, then each call alone between two CUDA events, the median."""
import statistics


def median_us(torch, call, runs=20, warmups=3):
    """The median time of `call()` in µs over `runs` timed calls."""
    for _ in range(warmups):
        call()
    times = []
    for _ in range(runs):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        call()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    return statistics.median(times)
