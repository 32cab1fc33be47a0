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
/// `run(parts:_:)` calls `body(0) … body(parts − 1)` on the calling thread
/// and the workers, and returns when all are done. Callers give each part a
/// fixed, disjoint slice of the work, so results do not depend on how many
/// threads run them, nor on which thread runs which part.
///
/// Parts are handed out dynamically: each thread, the caller included,
/// claims the next unclaimed part (one atomic compare-and-swap) until none
/// is left. A worker that the OS has descheduled (another process, or
/// numpy's BLAS threads spinning on the same cores) therefore delays
/// nothing: the threads that run take its parts, and a job is done when its
/// parts are, not when every worker has checked in. A worker that wakes up
/// late finds the job's parts all claimed (or a newer job) and claims
/// nothing.
///
/// The pool is used by one caller at a time (the kernels of one model step);
/// a call made while another is in progress — from a second thread, or from
/// inside a part — runs its parts serially on its own thread.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool. Its size comes from NN_NUM_THREADS, else the
    /// number of online CPUs; `setThreadCount` changes it.
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    /// Spins before the caller yields while it waits for the workers.
    private static let spinLimit = 200_000
    /// A worker inside one part for longer than three times the caller's
    /// time per part plus this has been descheduled by the OS (another process, or
    /// numpy's BLAS threads, took its CPU): a stall, which costs the job a
    /// scheduler time slice (4 ms measured here). The pool then benches
    /// that worker: it is given no job for a while (`stalled(_:at:)`) and
    /// sleeps instead of spinning on a CPU that the caller or its process
    /// may need. Results are the same bits whoever runs the parts.
    private static let stallNanoseconds: UInt64 = 200_000
    /// The first bench lasts this long; each stall within `stallMemory` of
    /// the worker's previous one doubles it, up to the maximum.
    private static let benchMinimum: UInt64 = 2_000_000
    private static let benchMaximum: UInt64 = 128_000_000
    private static let stallMemory: UInt64 = 1_000_000_000
    /// How long an idle worker spins before it sleeps: long enough to bridge
    /// the short stretches between a step's parallel regions (a layer's
    /// epilogue between two products), so that they find it awake; short
    /// enough that it sleeps through longer single-threaded stretches and
    /// leaves the CPU to whoever needs it (3 ms before issue 12: on this
    /// project's 2-vCPU machine 200 µs was never slower and at times 30%
    /// faster for W1 training on 2 threads, as the spinning BLAS threads of
    /// this numpy rows show the other way round).
    private static let idleSpinNanoseconds: UInt64 = 200_000

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Jobs published so far; the current job's number.
    private nonisolated(unsafe) var generation = 0
    /// The claim word of the current job: its number (24 bits), its part
    /// count (20 bits) and the next unclaimed part (20 bits). One word, so
    /// that a claim (a compare-and-swap) succeeds only for a part of the job
    /// the claimer was given, while that job is running.
    private let claim = Atomic<UInt64>(0)
    /// Parts of the current job that are done.
    private let completed = Atomic<Int>(0)
    /// Whether a job is being run (the pool is busy).
    private let busy = Atomic<Bool>(false)
    /// Number of workers asleep on `wake`.
    private let sleepers = Atomic<Int>(0)
    /// The job's body. Written by the caller before it publishes the job;
    /// read only by a thread that has claimed a part of it, so stable while
    /// read (the job cannot end before that part does).
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    /// Part counts up to this fit the claim word; larger jobs run on the
    /// caller alone.
    static let maximumParts = (1 << 20) - 1
    /// One slot per worker: the number of the last job assigned to it.
    private nonisolated(unsafe) var slots: [WorkerSlot] = []
    private let active = Atomic<Int>(0)
    /// Online CPUs: with more threads than that, spinning threads yield
    /// their CPU often, so a thread that has work is not kept waiting.
    private let cpuCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    private var oversubscribed: Bool { threadCount > cpuCount }

    /// Model calls (inference, training) running now (`asCaller`).
    private let callers = Atomic<Int>(0)
    /// When two of them last overlapped (monotonic nanoseconds).
    private let lastOverlap = Atomic<UInt64>(0)
    /// How long after an overlap the calls keep to their own threads.
    private static let overlapMemory: UInt64 = 20_000_000

    /// Runs `body`, a model call that may run parallel regions, counted as
    /// one of the calls now running. While calls overlap (threads
    /// predicting on one model, or training distinct models) and for
    /// `overlapMemory` after they last did, `run` keeps every call's parts
    /// on its own thread: each caller already has a CPU, and a job spread
    /// over the workers too would only oversubscribe the CPUs (on 2 cores,
    /// 2 Python threads predicting one sample at a time got 0.9× the
    /// throughput of one thread; the time after an overlap counts too,
    /// because such callers spend a quarter of each call outside libnn, and
    /// a job published then keeps a worker spinning). The bits are the same
    /// either way.
    public func asCaller<R>(_ body: () throws -> R) rethrows -> R {
        // A call made inside another on the same thread (a fit's callback
        // that predicts) is part of it, not a second caller.
        let depth = Int(bitPattern: pthread_getspecific(Self.callerDepthKey))
        pthread_setspecific(Self.callerDepthKey, UnsafeRawPointer(bitPattern: depth + 1))
        defer { pthread_setspecific(Self.callerDepthKey, UnsafeRawPointer(bitPattern: depth)) }
        guard depth == 0 else { return try body() }
        if callers.wrappingAdd(1, ordering: .relaxed).newValue > 1 {
            lastOverlap.store(monotonicNanoseconds(), ordering: .relaxed)
        }
        defer { callers.subtract(1, ordering: .relaxed) }
        return try body()
    }

    /// Whether `run` would keep parts on the caller now (tests).
    var keepsPartsOnCallers: Bool { callsOverlap }

    /// The calling thread's depth of `asCaller` calls.
    private static let callerDepthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether calls overlap now or did recently (`asCaller`).
    private var callsOverlap: Bool {
        if callers.load(ordering: .relaxed) > 1 { return true }
        let last = lastOverlap.load(ordering: .relaxed)
        return last != 0 && monotonicNanoseconds() &- last < Self.overlapMemory
    }

    /// Stalls seen so far (for tests and benchmarks): the workers' (each
    /// benched worker counts one) and, of those, the jobs in which the
    /// caller was the one descheduled (all the job's workers benched).
    public private(set) nonisolated(unsafe) var stalls = 0
    public private(set) nonisolated(unsafe) var callerStalls = 0
    /// Jobs that woke the sleeping workers (a futex call each; for tests).
    public private(set) nonisolated(unsafe) var wakeUps = 0

    /// Number of threads that run parts (workers + the caller), ≥ 1.
    public var threadCount: Int { active.load(ordering: .relaxed) + 1 }

    init(threads: Int) {
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        setThreadCount(threads)
    }

    /// NN_NUM_THREADS if set to a number ≥ 1, else the online CPU count.
    public static func defaultThreadCount() -> Int {
        if let text = getenv("NN_NUM_THREADS"), let n = Int(String(cString: text)), n >= 1 { return min(n, 256) }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Uses `threads` threads from now on (1 = everything on the caller).
    /// Workers are started as needed and kept; surplus ones stay asleep.
    /// Waits for a running job to finish first.
    public func setThreadCount(_ threads: Int) {
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { sched_yield() }
        defer { busy.store(false, ordering: .releasing) }
        let wanted = max(1, min(threads, 256)) - 1
        while slots.count < wanted {
            let slot = WorkerSlot(pool: self, index: slots.count + 1)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(slot).toOpaque()
            guard pthread_create(&thread, nil, { WorkerSlot.main($0) }, context) == 0 else {
                Unmanaged<WorkerSlot>.fromOpaque(context).release()
                break
            }
            pthread_detach(thread)
            slots.append(slot)
        }
        active.store(min(wanted, slots.count), ordering: .releasing)
    }

    /// Calls body(0 ..< parts) in parallel; returns when every part is done.
    public func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, parts <= Self.maximumParts, active.load(ordering: .relaxed) > 0,
              !callsOverlap,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<max(parts, 0) { body(p) }
            return
        }
        let start = monotonicNanoseconds()
        withoutActuallyEscaping(body) { escapable in
            let threads = min(threadCount, parts)
            self.body = escapable
            generation += 1
            let job = generation & Self.jobMask
            completed.store(0, ordering: .relaxed)
            claim.store(UInt64(job) << 40 | UInt64(parts) << 20, ordering: .releasing)
            // Sequentially consistent: with the worker's sleepers.add and
            // assigned.load, one side always sees the other (no lost wake-up).
            // A benched worker is given nothing (its parts go to the others),
            // and a job given to no worker wakes nobody.
            var assignedAny = false
            for i in 0..<(threads - 1) where slots[i].benchedUntil.load(ordering: .relaxed) <= start {
                slots[i].assigned.store(job, ordering: .sequentiallyConsistent)
                assignedAny = true
            }
            if assignedAny && sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUps += 1
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            let ran = runParts(job: job, slot: nil)
            let callerDone = monotonicNanoseconds()
            var spins = 0
            let yieldEvery = oversubscribed ? 64 : Self.spinLimit
            // A worker inside one part for longer than three times the
            // caller's time per part (parts differ by up to one unit of
            // work: up to 2× for a block of two units against one), plus
            // stallNanoseconds, has stalled (no estimate, no verdict, when
            // the caller ran no part).
            var limit = UInt64.max, stalledWorkers: UInt64 = 0
            while completed.load(ordering: .acquiring) < parts {
                spins += 1
                if spins > Self.spinLimit || spins % yieldEvery == 0 { sched_yield() }
                guard ran > 0, stalledWorkers == 0, spins & 255 == 1 else { continue }
                // Now and then: has a worker been inside a part for too long?
                let now = monotonicNanoseconds()
                // The limit is set at the first look, right after the
                // caller's own parts, from the caller's pace.
                if limit == .max { limit = 3 * (now - start) / UInt64(ran) + Self.stallNanoseconds }
                // No part can have run past the limit yet (it exceeds
                // stallNanoseconds, and parts start after `start`): leave the
                // workers' slots alone. Reading them takes their cache lines,
                // which the workers then wait to take back when they store
                // partStart/partEnd (a core-to-core transfer, 230 ns one way
                // on this project's Zen 2 VM, on a short job's critical path).
                if now - start <= Self.stallNanoseconds { continue }
                for i in 0..<min(threads - 1, 64) where slots[i].assigned.load(ordering: .relaxed) == job {
                    let since = slots[i].partStart.load(ordering: .acquiring)
                    if since != 0 && now > since && now - since > limit { stalledWorkers |= 1 << UInt64(i) }
                }
            }
            // The caller's own stall: it finished after the workers, who sat
            // idle meanwhile, and took more than twice what its parts should
            // have (the workers' time per part, from the job's start to their
            // last part's end; parts differ by up to one unit of work, so up
            // to 2x is normal), plus stallNanoseconds. The OS descheduled the
            // caller: its CPU is shared (another process pinned there, or
            // numpy's BLAS threads spinning) while a worker spins on the
            // other one, so the OS has no idle CPU to move it to. Benching
            // the workers frees their CPUs: the caller moves to one and runs
            // the parts alone, at least at its one-thread speed (a W1
            // training with 2 threads next to a busy core fell to 0.68 of one
            // thread's speed when the caller started on the busy core).
            // (Only a job that took longer than stallNanoseconds can qualify:
            // the slots are not read after shorter ones, for the reason above.)
            if stalledWorkers == 0 && ran > 0 && ran < parts && callerDone - start > Self.stallNanoseconds {
                var workersDone: UInt64 = 0
                for i in 0..<min(threads - 1, 64) where slots[i].assigned.load(ordering: .relaxed) == job {
                    workersDone = max(workersDone, slots[i].partEnd.load(ordering: .acquiring))
                }
                if workersDone > start && callerDone > workersDone {
                    let perPart = (workersDone - start) / UInt64(parts - ran)
                    if callerDone - start > 2 * UInt64(ran) * perPart + Self.stallNanoseconds {
                        callerStalls += 1
                        for i in 0..<min(threads - 1, 64) where slots[i].assigned.load(ordering: .relaxed) == job {
                            stalledWorkers |= 1 << UInt64(i)
                        }
                    }
                }
            }
            // The bench starts when the job ends (the stalled part is done).
            if stalledWorkers != 0 {
                let end = monotonicNanoseconds()
                for i in 0..<min(threads - 1, 64) where stalledWorkers & (1 << UInt64(i)) != 0 { stalled(slots[i], at: end) }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Benches a worker found stalled: no job for `bench`, which doubles
    /// with each of its stalls that follows its previous one within
    /// `stallMemory`, and starts again from the minimum otherwise.
    private func stalled(_ slot: WorkerSlot, at now: UInt64) {
        stalls += 1
        slot.bench = Self.benchLength(last: slot.bench, lastAt: slot.lastStall, now: now)
        slot.lastStall = now
        slot.benchedUntil.max(now + slot.bench, ordering: .relaxed)
    }

    /// A bench's length: the minimum, or twice the last (up to the maximum)
    /// when that one began within `stallMemory`.
    private static func benchLength(last: UInt64, lastAt: UInt64, now: UInt64) -> UInt64 {
        now - lastAt > stallMemory ? benchMinimum : min(last * 2, benchMaximum)
    }

    /// Job numbers wrap at 2^24 in the claim word.
    private static let jobMask = (1 << 24) - 1

    /// Claims and runs parts of job `job` until none is left (or a newer
    /// job has replaced it). Returns how many parts this thread ran.
    @discardableResult
    private func runParts(job: Int, slot: WorkerSlot?) -> Int {
        var ran = 0
        var word = claim.load(ordering: .acquiring)
        while true {
            let next = Int(word & 0xFFFFF), parts = Int(word >> 20 & 0xFFFFF)
            guard Int(word >> 40) == job, next < parts else { return ran }
            let (exchanged, current) = claim.compareExchange(expected: word, desired: word + 1,
                                                             ordering: .acquiringAndReleasing)
            guard exchanged else {
                word = current
                continue
            }
            // Part `next` is ours: the job cannot end before it is done, so
            // the body is the job's.
            slot?.partStart.store(monotonicNanoseconds(), ordering: .releasing)
            body!(next)
            if let slot {
                slot.partEnd.store(monotonicNanoseconds(), ordering: .releasing)
                slot.partStart.store(0, ordering: .releasing)
            }
            ran += 1
            completed.add(1, ordering: .releasing)
            word = claim.load(ordering: .acquiring)
        }
    }

    /// A worker: waits for a job assigned to it, runs its parts, repeats.
    fileprivate func workerLoop(_ slot: WorkerSlot) {
        var seen = 0
        var cpuWait = CPUWaitMonitor(at: monotonicNanoseconds())
        while true {
            var spins = 0
            var idleSince: UInt64 = 0
            var job = slot.assigned.load(ordering: .acquiring)
            while job == seen {
                spins += 1
                if spins & 63 == 0 && oversubscribed { sched_yield() }
                // Look at the clock now and then, not on every spin; sleep
                // once idle for idleSpinNanoseconds.
                if spins & 1023 == 0 {
                    var now = monotonicNanoseconds()
                    if cpuWait.waitedTooLong(at: now) { benchItself(slot, at: now) }
                    let benchedUntil = slot.benchedUntil.load(ordering: .relaxed)
                    if now < benchedUntil {
                        // Benched: asleep at once (a spinning idle worker
                        // takes CPU time that its process needs) until the
                        // bench ends, and not on `wake`: no job is given to
                        // it meanwhile, so the caller's wake-ups are not for
                        // it. (Woken by each of them, a benched worker cost
                        // the caller a futex call a job and took its CPU
                        // from whoever had it: with numpy's BLAS thread
                        // spinning there, 1.4k wake-ups in 1.8k jobs of W1
                        // training.)
                        cpuWait.pause(at: now)
                        sleep(until: benchedUntil)
                        now = monotonicNanoseconds()
                        cpuWait.resume(at: now)
                        idleSince = 0
                    } else if idleSince == 0 {
                        idleSince = now
                    } else if now - idleSince >= Self.idleSpinNanoseconds {
                        cpuWait.pause(at: now)
                        pthread_mutex_lock(lock)
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        while slot.assigned.load(ordering: .sequentiallyConsistent) == seen {
                            pthread_cond_wait(wake, lock)
                            slot.wakeUps.add(1, ordering: .relaxed)
                            // Benched while asleep (tests' `bench(worker:)`): sleep
                            // the bench out instead, where others' wake-ups do not reach.
                            if slot.benchedUntil.load(ordering: .relaxed) > monotonicNanoseconds() { break }
                        }
                        sleepers.subtract(1, ordering: .releasing)
                        pthread_mutex_unlock(lock)
                        cpuWait.resume(at: monotonicNanoseconds())
                        idleSince = 0
                    }
                }
                job = slot.assigned.load(ordering: .acquiring)
            }
            seen = job
            #if NN_TEST_HOOKS
            if let delay = testHookWorkerDelay, delay.worker == slot.index {
                var pause = timespec(tv_sec: 0, tv_nsec: delay.nanoseconds)
                nanosleep(&pause, nil)
            }
            #endif
            slot.partsRun += runParts(job: job, slot: slot)
            let now = monotonicNanoseconds()
            if cpuWait.waitedTooLong(at: now) { benchItself(slot, at: now) }
        }
    }

    /// A worker benches itself when it has waited for a CPU (runnable, not
    /// running) for more than a third of its waking time: its CPU is
    /// shared (numpy's BLAS threads spinning there, another process, or the
    /// caller itself), and each part it takes may then wait a scheduler
    /// time slice, which the job waits too; benched, it sleeps and leaves
    /// the CPU, and the caller runs the parts at its own speed.
    private func benchItself(_ slot: WorkerSlot, at now: UInt64) {
        slot.selfBench = Self.benchLength(last: slot.selfBench, lastAt: slot.lastSelfBench, now: now)
        slot.lastSelfBench = now
        slot.selfBenches.add(1, ordering: .relaxed)
        slot.benchedUntil.max(now + slot.selfBench, ordering: .relaxed)
    }
}

/// The time a thread has waited for a CPU while runnable, against the time
/// it was awake, over windows of at least a millisecond awake (Linux: the
/// run delay in /proc/thread-self/schedstat, read once a window, a few
/// microseconds; elsewhere, or without that file, nothing is measured).
struct CPUWaitMonitor {
    /// Run delay at the window's start.
    private var baseline: UInt64?
    /// Awake time in the window before `awakeSince`.
    private var awake: UInt64 = 0
    private var awakeSince: UInt64
    private static let window: UInt64 = 1_000_000

    init(at now: UInt64) {
        awakeSince = now
        baseline = Self.currentRunDelay()
    }

    /// The thread goes to sleep (the time asleep is not in the window)…
    mutating func pause(at now: UInt64) { awake += now &- awakeSince }
    /// …and wakes up.
    mutating func resume(at now: UInt64) { awakeSince = now }

    /// Whether, in the window that ends now (if it is long enough), the
    /// thread waited for a CPU for more than a third of the time it was
    /// awake (awake time counts the waits while it was preempted; a wait
    /// to run after a wake-up adds to `waited` alone). A window starts
    /// where the last ended; a failed reading ends it with no verdict.
    mutating func waitedTooLong(at now: UInt64) -> Bool {
        guard let start = baseline else { return false }
        let total = awake + (now &- awakeSince)
        guard total >= Self.window else { return false }
        awake = 0
        awakeSince = now
        guard let delay = Self.currentRunDelay() else { return false }
        baseline = delay
        guard delay >= start else { return false }
        return (delay - start) * 3 > total
    }

    /// The calling thread's run delay in nanoseconds, or nil.
    static func currentRunDelay() -> UInt64? {
        #if os(Linux)
        let fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buffer) { bytes -> UInt64? in
            let count = read(fd, bytes.baseAddress, bytes.count)
            return count > 0 ? runDelay(schedstat: bytes.prefix(count)) : nil
        }
        #else
        return nil
        #endif
    }

    /// The run delay in a schedstat line ("time on CPU, time waiting for
    /// one, time slices", in decimal, separated by spaces): its second
    /// field, or nil if the line does not start with two numbers.
    static func runDelay(schedstat line: some Sequence<UInt8>) -> UInt64? {
        var field = 0, value: UInt64 = 0, digits = 0
        for byte in line {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") && digits < 19 {
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                guard digits > 0 else { return nil }
                if field == 1 { return value }
                field += 1
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        return field == 1 && digits > 0 ? value : nil
    }
}

/// A worker thread's mailbox: the number of the last job assigned to it.
/// Only the caller assigns, and only after the previous job is finished by
/// every thread it was assigned to, so a worker always reads the fields of
/// the job it was given.
private final class WorkerSlot {
    /// Strong: workers run for the life of the process, so their pool does
    /// too (a worker may first run after its creator has let the pool go,
    /// since a job no longer waits for every worker).
    let pool: ThreadPool
    let index: Int
    let assigned = Atomic<Int>(0)
    /// Parts this worker has run (for tests: read while the pool is idle).
    nonisolated(unsafe) var partsRun = 0
    /// When the worker began the part it is in (monotonic nanoseconds), 0
    /// outside parts: the caller looks for stalls.
    let partStart = Atomic<UInt64>(0)
    /// When the worker last finished a part (monotonic nanoseconds): the
    /// caller looks for its own stalls.
    let partEnd = Atomic<UInt64>(0)
    /// After a stall: no job for the worker until this time (monotonic
    /// nanoseconds); the length of its last bench, and its last stall (both
    /// the caller's).
    let benchedUntil = Atomic<UInt64>(0)
    /// Times the worker woke up on `wake` (for tests).
    let wakeUps = Atomic<Int>(0)
    /// Times it benched itself, having waited for a CPU (for tests); the
    /// length of its last such bench and when (its own).
    let selfBenches = Atomic<Int>(0)
    nonisolated(unsafe) var selfBench: UInt64 = 0
    nonisolated(unsafe) var lastSelfBench: UInt64 = 0
    nonisolated(unsafe) var bench: UInt64 = 0
    nonisolated(unsafe) var lastStall: UInt64 = 0

    init(pool: ThreadPool, index: Int) {
        self.pool = pool
        self.index = index
    }

    static func main(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        let slot = Unmanaged<WorkerSlot>.fromOpaque(raw!).takeRetainedValue()
        slot.pool.workerLoop(slot)
        return nil
    }
}

extension ThreadPool {
    /// Parts run by each worker so far (worker 1 first; the caller's are
    /// not counted). For tests; read while no job runs.
    public var partsRunByWorkers: [Int] { slots.map(\.partsRun) }

    /// Until when worker `index` (1-based) is benched (monotonic
    /// nanoseconds; 0 if it never was), and how long from now (0 if no
    /// longer). For tests.
    func benchedUntil(worker index: Int) -> UInt64 { slots[index - 1].benchedUntil.load(ordering: .relaxed) }
    func benchRemaining(worker index: Int) -> UInt64 {
        let until = benchedUntil(worker: index), now = monotonicNanoseconds()
        return until > now ? until - now : 0
    }

    /// Benches worker `index` (1-based) for `nanoseconds` from now, as a
    /// stall would. For tests; call while no job runs.
    func bench(worker index: Int, nanoseconds: UInt64) {
        slots[index - 1].benchedUntil.store(monotonicNanoseconds() + nanoseconds, ordering: .relaxed)
    }

    /// Times worker `index` (1-based) woke up on the pool's wake-up call.
    /// For tests.
    func wakeUps(worker index: Int) -> Int { slots[index - 1].wakeUps.load(ordering: .relaxed) }

    /// Times worker `index` (1-based) benched itself, having waited for a
    /// CPU. For tests.
    func selfBenches(worker index: Int) -> Int { slots.count >= index ? slots[index - 1].selfBenches.load(ordering: .relaxed) : 0 }
}

#if NN_TEST_HOOKS
/// Test hook (debug builds only): worker `worker` (1-based) sleeps this long
/// after it is given each job and before it claims a part, as a thread the
/// OS has descheduled would; the others must take its parts. Kept in one
/// atomic word (worker << 40 | nanoseconds; 0: none), because the test
/// sets it while the workers read it (ThreadSanitizer, `make sanitize`).
public var testHookWorkerDelay: (worker: Int, nanoseconds: Int)? {
    get {
        let word = testHookWorkerDelayWord.load(ordering: .acquiring)
        return word == 0 ? nil : (word >> 40, word & (1 << 40 - 1))
    }
    set { testHookWorkerDelayWord.store(newValue.map { $0.worker << 40 | $0.nanoseconds } ?? 0, ordering: .releasing) }
}
private let testHookWorkerDelayWord = Atomic<Int>(0)
#endif

/// Sleeps until about when the monotonic clock reads `deadline`
/// (nanoseconds; a signal may end the sleep earlier).
private func sleep(until deadline: UInt64) {
    let now = monotonicNanoseconds()
    guard deadline > now else { return }
    var pause = timespec(tv_sec: Int((deadline - now) / 1_000_000_000), tv_nsec: Int((deadline - now) % 1_000_000_000))
    nanosleep(&pause, nil)
}

/// A monotonic clock in nanoseconds.
@inline(__always)
private func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
