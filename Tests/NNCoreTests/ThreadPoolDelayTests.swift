import Synchronization
import XCTest
@testable import NNCore

/// Parts are handed out dynamically (issue 12, "threads that never lose"):
/// a worker the OS deschedules delays nothing, and results stay bit-identical
/// for any schedule. `testHookWorkerDelay` (debug builds) makes a worker
/// sleep after it is given each job, before it claims a part, as a
/// descheduled thread would.
final class ThreadPoolDelayTests: XCTestCase {
    override func tearDown() {
        testHookWorkerDelay = nil
        super.tearDown()
    }

    func testADelayedWorkerRunsNoPartTheOthersCanTake() {
        let pool = ThreadPool(threads: 3)
        // Warm up: every worker has run parts at least once.
        for _ in 0..<50 { pool.run(parts: 12) { _ in } }
        testHookWorkerDelay = (worker: 1, nanoseconds: 200_000_000)
        let before = pool.partsRunByWorkers
        let done = UnsafeMutablePointer<Int>.allocate(capacity: 12)
        done.initialize(repeating: 0, count: 12)
        defer { done.deallocate() }
        pool.run(parts: 12) { p in done[p] += 1 }
        // The job is done (run returned) while worker 1 still sleeps: the
        // caller and worker 2 took its parts.
        XCTAssertEqual(Array(UnsafeBufferPointer(start: done, count: 12)), [Int](repeating: 1, count: 12))
        XCTAssertEqual(pool.partsRunByWorkers[0], before[0], "the sleeping worker ran no part")
        testHookWorkerDelay = nil
        // Once awake it finds the job's parts all claimed, and later jobs
        // still run every part exactly once.
        usleep(300_000)
        XCTAssertEqual(pool.partsRunByWorkers[0], before[0])
        for job in 0..<200 {
            let parts = 2 + job % 9
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
            counts.initialize(repeating: 0, count: parts)
            pool.run(parts: parts) { p in counts[p] += 1 }
            for p in 0..<parts where counts[p] != 1 { XCTFail("job \(job): part \(p) ran \(counts[p]) times") }
            counts.deallocate()
        }
    }

    func testEveryPartOnceWithAWorkerDelayedAtRandom() {
        // Short delays that land anywhere in the other threads' work.
        let pool = ThreadPool(threads: 3)
        for job in 0..<300 {
            testHookWorkerDelay = (worker: 1 + job % 2, nanoseconds: (job * 7919) % 50_000)
            let parts = 2 + job % 11
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
            counts.initialize(repeating: 0, count: parts)
            pool.run(parts: parts) { p in
                counts[p] += 1
                if p % 3 == 0 { usleep(10) }
            }
            for p in 0..<parts where counts[p] != 1 { XCTFail("job \(job): part \(p) ran \(counts[p]) times") }
            counts.deallocate()
        }
    }

    /// GEMM and a training run give the same bits with a delayed worker as
    /// on one thread.
    func testBitIdenticalWithADelayedWorker() throws {
        let pool = ThreadPool.shared
        let saved = pool.threadCount
        defer { pool.setThreadCount(saved) }
        let (m, n, k) = (128, 256, 784)
        let a = uniformValues(m * k, -1, 1, seed: 5).map { Float($0) }
        let b = uniformValues(k * n, -1, 1, seed: 6).map { Float($0) }
        let A = Buffer<Float>(a), B = Buffer<Float>(b)
        func product() -> [Float] {
            let C = Buffer<Float>(repeating: 0.5, count: m * n)
            ParallelGemm.gemm(false, false, m, n, k, 1, A.pointer, k, B.pointer, n, 1, C.pointer, n)
            return C.array
        }
        func train() throws -> [[Float]] {
            let model = try Sequential(inputDim: 16, seed: 3)
            try model.add(Dense(256, activation: .relu))
            try model.add(Dense(4, activation: .softmax))
            try model.compile(loss: .categoricalCrossentropy, optimizer: .adam())
            let x = try Tensor(shape: [512, 16], scalars: uniformValues(512 * 16, -1, 1, seed: 7).map { Float($0) })
            let y = try Tensor(shape: [512, 4], scalars: (0..<512 * 4).map { Float($0 % 4 == ($0 / 4) % 4 ? 1 : 0) })
            _ = try model.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 256))
            return try (0..<model.weightSpecs.count).map { try model.weight($0) }
        }
        pool.setThreadCount(1)
        let gemmOne = product(), trainOne = try train()
        pool.setThreadCount(3)
        testHookWorkerDelay = (worker: 1, nanoseconds: 2_000_000)
        XCTAssertEqual(product(), gemmOne)
        XCTAssertEqual(try train(), trainOne)
        testHookWorkerDelay = (worker: 2, nanoseconds: 30_000)
        XCTAssertEqual(product(), gemmOne)
        XCTAssertEqual(try train(), trainOne)
        keepAlive(A, B)
    }

    /// A worker that stalls inside a part (as one the OS deschedules while
    /// it runs) is benched: the caller counts the stall, gives it no job
    /// for a while (its parts go to the others), then gives it jobs again.
    func testAWorkerStalledInsideAPartIsBenchedThenComesBack() throws {
        let pool = poolWithAnAwakeWorker()
        let caller = pthread_self()
        let stallsBefore = pool.stalls
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        counts.initialize(repeating: 0, count: 8)
        defer { counts.deallocate() }
        // The worker's part lasts 20 ms; the caller's first part waits (up
        // to a second) until the worker is inside one, so that it cannot
        // run all 8 parts itself.
        let workerInside = Atomic<Bool>(false)
        pool.run(parts: 8) { p in
            counts[p] += 1
            if pthread_equal(pthread_self(), caller) == 0 {
                workerInside.store(true, ordering: .relaxed)
                usleep(20_000)
            } else {
                var waited = 0
                while !workerInside.load(ordering: .relaxed) && waited < 1_000_000 {
                    usleep(100)
                    waited += 100
                }
                usleep(200)
            }
        }
        guard workerInside.load(ordering: .relaxed) else {
            throw XCTSkip("the worker never ran within a second (an overloaded machine): nothing to measure")
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: 8)), [Int](repeating: 1, count: 8))
        XCTAssertEqual(pool.stalls, stallsBefore + 1, "the caller found the worker stalled inside its part")
        XCTAssertGreaterThan(pool.benchedUntil(worker: 1), 0, "the stalled worker is benched")
        assertJobsStayOnTheCallerWhileBenched(pool, caller)
        // After the bench it takes parts again.
        let offCaller = Atomic<Int>(0)
        usleep(300_000)
        for _ in 0..<50 where offCaller.load(ordering: .relaxed) == 0 {
            pool.run(parts: 8) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { offCaller.add(1, ordering: .relaxed) }
                usleep(200)
            }
        }
        XCTAssertGreaterThan(offCaller.load(ordering: .relaxed), 0, "the worker is back")
    }

    /// A benched worker sleeps out its bench: the wake-ups for the other
    /// workers' jobs do not wake it (each would take its CPU from whoever
    /// has it, numpy's BLAS threads or another process, for nothing).
    func testABenchedWorkerSleepsThroughTheOthersWakeUps() throws {
        let pool = ThreadPool(threads: 3)
        for _ in 0..<50 { pool.run(parts: 8) { _ in } }
        pool.bench(worker: 1, nanoseconds: 2_000_000_000)
        // One job first: a worker 1 already asleep on the wake-up (the test
        // thread descheduled for 200 µs after the warm-up) leaves it for its
        // bench at that job's wake-up.
        pool.run(parts: 8) { _ in usleep(50) }
        usleep(5_000)  // worker 1 is asleep on its bench, worker 2 on the wake-up
        let benchedBefore = pool.wakeUps(worker: 1), otherBefore = pool.wakeUps(worker: 2)
        let jobsBefore = pool.partsRunByWorkers
        for _ in 0..<20 {
            pool.run(parts: 8) { _ in usleep(50) }
            usleep(1_000)  // long enough for worker 2 to go back to sleep
        }
        guard pool.benchRemaining(worker: 1) > 0 else { throw XCTSkip("20 jobs outlasted a 2 s bench (an overloaded machine)") }
        XCTAssertEqual(pool.wakeUps(worker: 1), benchedBefore, "the benched worker was woken")
        XCTAssertEqual(pool.partsRunByWorkers[0], jobsBefore[0], "the benched worker ran a part")
        XCTAssertGreaterThan(pool.wakeUps(worker: 2), otherBefore, "the other worker was woken for its jobs")
    }

    /// A worker that waits for its CPU for more than a third of the time
    /// it is awake benches itself. Here it shares one CPU with the caller:
    /// the test pins itself to one CPU before it makes the pool, and the
    /// worker inherits that.
    func testAWorkerThatWaitsForItsCPUBenchesItself() throws {
        guard CPUWaitMonitor.currentRunDelay() != nil else {
            throw XCTSkip("no /proc/thread-self/schedstat: the time a thread waits for a CPU is not measured here")
        }
        let affinity = try ThreadAffinity()
        let saved = try affinity.current()
        try affinity.pin(toFirstCPUOf: saved)
        defer {
            do { try affinity.set(saved) } catch { XCTFail("the test thread's CPU affinity was not restored") }
        }
        let pool = ThreadPool(threads: 2)
        let waitedBefore = CPUWaitMonitor.currentRunDelay() ?? 0
        let deadline = uptimeNanoseconds() + 2_000_000_000
        var jobs = 0
        while pool.selfBenches(worker: 1) == 0 && uptimeNanoseconds() < deadline {
            pool.run(parts: 8) { _ in
                let t = uptimeNanoseconds()
                while uptimeNanoseconds() - t < 50_000 {}
            }
            jobs += 1
        }
        // The test thread shared its CPU with the worker too: a run delay
        // that did not grow is one the system does not account (a sandbox
        // whose schedstat reads zeros).
        if pool.selfBenches(worker: 1) == 0 && (CPUWaitMonitor.currentRunDelay() ?? 0) <= waitedBefore {
            throw XCTSkip("this system's schedstat does not count the time a thread waits for a CPU")
        }
        XCTAssertGreaterThan(pool.selfBenches(worker: 1), 0,
                             "a worker sharing its CPU with the caller did not bench itself in \(jobs) jobs")
    }

    /// The run delay is the second number of a schedstat line; anything
    /// else is no reading.
    func testTheRunDelayIsReadFromASchedstatLine() {
        func read(_ text: String) -> UInt64? { CPUWaitMonitor.runDelay(schedstat: Array(text.utf8)) }
        XCTAssertEqual(read("2717336 4521 36\n"), 4521)
        XCTAssertEqual(read("0 0 0\n"), 0)
        XCTAssertEqual(read("12 345"), 345)
        XCTAssertEqual(read("1 9999999999999999999 2\n"), 9_999_999_999_999_999_999)
        for bad in ["", "12", "12 ", " 12 3", "12  3 4", "12 x 4", "-1 2 3", "1 99999999999999999999 2"] {
            XCTAssertNil(read(bad), bad)
        }
        if let first = CPUWaitMonitor.currentRunDelay(), let second = CPUWaitMonitor.currentRunDelay() {
            XCTAssertLessThanOrEqual(first, second, "a thread's run delay only grows")
        }
    }

    /// A pool of 2 threads whose worker is awake (spinning after 50 jobs)
    /// and not benched (a warm-up part in which the OS happened to
    /// deschedule it may have benched it: that is waited out).
    func poolWithAnAwakeWorker() -> ThreadPool {
        let pool = ThreadPool(threads: 2)
        for _ in 0..<50 { pool.run(parts: 8) { _ in } }
        while pool.benchRemaining(worker: 1) > 0 { usleep(1_000) }
        return pool
    }

    /// A short job: the caller's part takes microseconds, the worker's
    /// 700 µs (a stall at the caller's pace: the limit is 3 × the caller's
    /// time per part + 200 µs, set at the caller's first look, right after
    /// its part). The worker is benched. (A form of the rule that looked
    /// at the workers only after 200 µs, and set the limit then, waited at
    /// least 800 µs and benched nobody here.)
    func testAWorkerStalledInAShortJobIsBenchedAtTheCallersPace() throws {
        // The other tests' pools' idle workers spin for 200 µs: let them
        // sleep, so that this pool's worker has a CPU.
        usleep(10_000)
        let pool = poolWithAnAwakeWorker()
        let caller = pthread_self()
        // Up to 20 tries, for one in which the worker starts its part within
        // 100 µs (the caller's part then takes at most that): on a busy
        // machine the worker may be late, and the test measures nothing.
        for _ in 0..<20 {
            while pool.benchRemaining(worker: 1) > 0 { usleep(1_000) }
            for _ in 0..<50 { pool.run(parts: 8) { _ in } }   // awake again
            let stallsBefore = pool.stalls
            let workerInside = Atomic<Bool>(false)
            let callerPart = Atomic<UInt64>(0)
            pool.run(parts: 2) { _ in
                if pthread_equal(pthread_self(), caller) == 0 {
                    workerInside.store(true, ordering: .relaxed)
                    usleep(700)
                } else {
                    // wait (spinning, at most 100 µs) for the worker to be
                    // inside the other part, so that the caller runs only this one
                    let begin = DispatchTime.now().uptimeNanoseconds
                    while !workerInside.load(ordering: .relaxed)
                            && DispatchTime.now().uptimeNanoseconds - begin < 100_000 {}
                    callerPart.store(DispatchTime.now().uptimeNanoseconds - begin, ordering: .relaxed)
                }
            }
            guard workerInside.load(ordering: .relaxed), callerPart.load(ordering: .relaxed) < 100_000 else {
                continue
            }
            XCTAssertEqual(pool.stalls, stallsBefore + 1, "the caller found the worker stalled, at its own pace")
            XCTAssertGreaterThan(pool.benchedUntil(worker: 1), 0, "the stalled worker is benched")
            return
        }
        throw XCTSkip("the worker never started within 100 µs in 20 tries (an overloaded machine): nothing to measure")
    }

    /// The caller stalled inside its part (as one the OS deschedules on a
    /// CPU it shares, while a worker holds the other) long after the
    /// workers finished theirs: the workers are benched, so that their CPUs
    /// are free for the caller, and the jobs that follow run on the caller.
    func testACallerStalledInsideAPartBenchesTheWorkers() throws {
        let pool = ThreadPool(threads: 2)
        for _ in 0..<50 { pool.run(parts: 8) { _ in } }
        while pool.benchRemaining(worker: 1) > 0 { usleep(1_000) }
        let caller = pthread_self()
        let stallsBefore = pool.stalls, callerStallsBefore = pool.callerStalls
        let benchedBefore = pool.benchedUntil(worker: 1)
        // The worker's parts take 50 µs each; the caller, in its first part,
        // waits (up to a second) until the worker has done the other seven,
        // then takes 20 ms more: far beyond three times a worker's part.
        let workerParts = Atomic<Int>(0)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        counts.initialize(repeating: 0, count: 8)
        defer { counts.deallocate() }
        var callerParts = 0
        pool.run(parts: 8) { p in
            counts[p] += 1
            if pthread_equal(pthread_self(), caller) == 0 {
                usleep(50)
                workerParts.add(1, ordering: .relaxed)
            } else {
                callerParts += 1
                var waited = 0
                while workerParts.load(ordering: .relaxed) < 7 && waited < 1_000_000 {
                    usleep(100)
                    waited += 100
                }
                usleep(20_000)
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: 8)), [Int](repeating: 1, count: 8))
        guard callerParts == 1, workerParts.load(ordering: .relaxed) == 7 else {
            throw XCTSkip("the worker did not take the other parts within a second (an overloaded machine)")
        }
        XCTAssertEqual(pool.callerStalls, callerStallsBefore + 1, "the caller found itself stalled")
        XCTAssertEqual(pool.stalls, stallsBefore + 1, "its worker is benched")
        XCTAssertGreaterThan(pool.benchedUntil(worker: 1), benchedBefore)
        assertJobsStayOnTheCallerWhileBenched(pool, caller)
    }

    /// While worker 1 is benched (2 ms for a first stall), jobs begun with
    /// more than 0.5 ms of the bench left run entirely on the caller (a
    /// loaded machine may leave no time for any; none may reach the worker),
    /// and wake nobody: the benched worker sleeps out its bench, not on the
    /// pool's wake-up (which, made for it every job, cost the caller a futex
    /// call and took the worker's CPU from whoever had it).
    private func assertJobsStayOnTheCallerWhileBenched(_ pool: ThreadPool, _ caller: pthread_t,
                                                       file: StaticString = #filePath, line: UInt = #line) {
        let offCaller = Atomic<Int>(0)
        let wakeUpsBefore = pool.wakeUps
        var jobs = 0
        while pool.benchRemaining(worker: 1) > 500_000 {
            pool.run(parts: 4) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { offCaller.add(1, ordering: .relaxed) }
                usleep(20)
            }
            jobs += 1
        }
        XCTAssertEqual(offCaller.load(ordering: .relaxed), 0, "a benched worker is given no job", file: file, line: line)
        XCTAssertEqual(pool.wakeUps, wakeUpsBefore, "jobs given to no worker wake nobody (\(jobs) jobs)",
                       file: file, line: line)
    }

    /// A caller whose part is merely longer than the worker's (1.8 times:
    /// parts may differ by a unit of work) benches nobody, though it
    /// finishes 2.4 ms after the worker, and 2.4 ms is more than
    /// stallNanoseconds. Jobs in which the caller's part itself overran
    /// (the OS descheduled it) may count a stall.
    func testACallerMerelyLastBenchesNobody() throws {
        let pool = ThreadPool(threads: 2)
        for _ in 0..<50 { pool.run(parts: 2) { _ in } }
        let caller = pthread_self()
        let before = pool.callerStalls
        var disturbed = 0, workerRan = 0
        for _ in 0..<5 {
            while pool.benchRemaining(worker: 1) > 0 { usleep(1_000) }
            var callerPart: UInt64 = 0
            let workerPart = Atomic<Int>(0)
            pool.run(parts: 2) { _ in
                if pthread_equal(pthread_self(), caller) == 0 {
                    usleep(3_000)
                    workerPart.store(1, ordering: .relaxed)
                } else {
                    let t = uptimeNanoseconds()
                    usleep(5_400)
                    callerPart = uptimeNanoseconds() - t
                }
            }
            workerRan += workerPart.load(ordering: .relaxed)
            if callerPart > 6_000_000 { disturbed += 1 }
        }
        guard workerRan > 0 else { throw XCTSkip("the worker never took a part (an overloaded machine)") }
        XCTAssertLessThanOrEqual(pool.callerStalls - before, disturbed,
                                 "stalls counted in jobs whose caller ran its part on time (the worker ran \(workerRan) of 5)")
    }
}

/// A monotonic clock in nanoseconds (tests).
private func uptimeNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// The calling thread's CPU affinity (Linux's sched_getaffinity and
/// sched_setaffinity, which Swift's Glibc module does not declare, looked
/// up at run time).
private struct ThreadAffinity {
    typealias Call = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    let get: Call, put: Call

    init() throws {
        let process = dlopen(nil, RTLD_NOW)
        guard let get = dlsym(process, "sched_getaffinity"), let put = dlsym(process, "sched_setaffinity") else {
            throw XCTSkip("no sched_setaffinity here")
        }
        self.get = unsafeBitCast(get, to: Call.self)
        self.put = unsafeBitCast(put, to: Call.self)
    }

    func current() throws -> cpu_set_t {
        var set = cpu_set_t()
        guard get(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { throw XCTSkip("sched_getaffinity failed") }
        return set
    }

    func set(_ set: cpu_set_t) throws {
        var set = set
        guard put(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { throw XCTSkip("sched_setaffinity failed") }
    }

    /// Pins the calling thread to the lowest-numbered CPU in `allowed`.
    func pin(toFirstCPUOf allowed: cpu_set_t) throws {
        var allowed = allowed, one = cpu_set_t()
        let first = withUnsafeBytes(of: &allowed) { bytes in bytes.firstIndex { $0 != 0 } }
        guard let index = first else { throw XCTSkip("an empty CPU set") }
        withUnsafeMutableBytes(of: &allowed) { bytes in
            withUnsafeMutableBytes(of: &one) { target in target[index] = bytes[index] & (~bytes[index] &+ 1) }
        }
        try set(one)
    }
}
