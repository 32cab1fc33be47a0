import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A persistent pool of worker threads for the short parallel regions of a
/// training step (PERF-NOTES: a dispatch per call costs tens of
/// microseconds; a persistent pool with a bounded spin, then a sleep, hands
/// work off in well under a microsecond).
///
/// `run(parts:_:)` calls `body(0) … body(parts − 1)`, part 0 on the calling
/// thread and the others on workers, and returns when all are done. Callers
/// give each part a fixed, disjoint slice of the work, so results do not
/// depend on how many threads run them.
///
/// The pool is used by one caller at a time (the kernels of one model step);
/// a call made while another is in progress — from a second thread, or from
/// inside a part — runs its parts serially on its own thread.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool. Its size comes from NN_NUM_THREADS, else the
    /// number of online CPUs; `setThreadCount` changes it.
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    /// Spins before a worker sleeps, and before the caller yields while waiting.
    private static let spinLimit = 20_000

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Incremented for every job; workers watch it.
    private let generation = Atomic<Int>(0)
    /// Parts not finished yet of the current job.
    private let pending = Atomic<Int>(0)
    /// Whether a job is being run (the pool is busy).
    private let busy = Atomic<Bool>(false)
    /// Number of workers currently asleep on `wake`.
    private let sleepers = Atomic<Int>(0)
    /// The job: parts, the threads sharing them, and body, valid while a job runs.
    private nonisolated(unsafe) var parts = 0
    private nonisolated(unsafe) var jobThreads = 1
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    private nonisolated(unsafe) var workers: [pthread_t] = []
    private let active = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    /// Number of threads that run parts (workers + the caller), ≥ 1.
    public var threadCount: Int { active.load(ordering: .relaxed) + 1 }

    init(threads: Int) {
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        setThreadCount(threads)
    }

    /// NN_NUM_THREADS if set to a number ≥ 1, else the online CPU count.
    static func defaultThreadCount() -> Int {
        if let text = getenv("NN_NUM_THREADS"), let n = Int(String(cString: text)), n >= 1 { return min(n, 256) }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Uses `threads` threads from now on (1 = everything on the caller).
    /// Workers are started as needed and kept; surplus ones stay idle.
    public func setThreadCount(_ threads: Int) {
        let wanted = max(1, min(threads, 256)) - 1
        while workers.count < wanted {
            let index = workers.count + 1
            var thread = pthread_t()
            // The worker starts from the generation of now: a job published
            // before the thread gets going still counts as new to it.
            let context = Unmanaged.passRetained(WorkerContext(
                pool: self, index: index, generation: generation.load(ordering: .acquiring))).toOpaque()
            let started = pthread_create(&thread, nil, { WorkerContext.main($0) }, context)
            guard started == 0 else { break }
            pthread_detach(thread)
            workers.append(thread)
        }
        active.store(min(wanted, workers.count), ordering: .releasing)
    }

    /// Calls body(0 ..< parts) in parallel; returns when every part is done.
    public func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, active.load(ordering: .relaxed) > 0,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<max(parts, 0) { body(p) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.parts = parts
            self.jobThreads = min(threadCount, parts)
            self.body = escapable
            pending.store(parts, ordering: .relaxed)
            // Sequentially consistent: with the worker's sleepers.add and
            // generation.load below, one side always sees the other (no lost wake-up).
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            // The caller takes parts too: part 0, then any left over.
            runParts(worker: 0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > Self.spinLimit { sched_yield() }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Part p of the job goes to thread p mod jobThreads (a fixed
    /// assignment). A thread drops its reference to the body before it
    /// reports its parts done, so none outlives the caller's closure.
    private func runParts(worker: Int) {
        let threads = jobThreads, n = parts
        guard worker < threads else { return }
        var done = 0
        if let body {
            var p = worker
            while p < n {
                body(p)
                done += 1
                p += threads
            }
        }
        pending.subtract(done, ordering: .releasing)
    }

    fileprivate func workerLoop(index: Int, startGeneration: Int) {
        var seen = startGeneration
        while !stopping.load(ordering: .relaxed) {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > Self.spinLimit {
                    pthread_mutex_lock(lock)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, lock) }
                    sleepers.subtract(1, ordering: .releasing)
                    pthread_mutex_unlock(lock)
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            runParts(worker: index)
        }
    }
}

/// What a worker thread is started with.
private final class WorkerContext {
    unowned let pool: ThreadPool
    let index: Int
    let generation: Int
    init(pool: ThreadPool, index: Int, generation: Int) {
        self.pool = pool
        self.index = index
        self.generation = generation
    }

    static func main(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
        context.pool.workerLoop(index: context.index, startGeneration: context.generation)
        return nil
    }
}
