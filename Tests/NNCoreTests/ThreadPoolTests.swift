import Dispatch
import XCTest
@testable import NNCore

/// The persistent thread pool: every part runs exactly once, on any thread
/// count, across many back-to-back jobs (the hand-off races would show up as
/// a lost or doubled part or a hang), nested and concurrent calls included.
final class ThreadPoolTests: XCTestCase {
    func testEveryPartRunsExactlyOnceAcrossManyJobs() {
        for threads in [1, 2, 3, 4] {
            let pool = ThreadPool(threads: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for job in 0..<3000 {
                let parts = 1 + job % 7
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
                counts.initialize(repeating: 0, count: parts)
                pool.run(parts: parts) { p in counts[p] += 1 }
                for p in 0..<parts where counts[p] != 1 {
                    XCTFail("threads \(threads), job \(job): part \(p) ran \(counts[p]) times")
                }
                counts.deallocate()
            }
        }
    }

    func testWorkersWakeAfterSleeping() {
        // Long enough between jobs for the workers to go to sleep.
        let pool = ThreadPool(threads: 3)
        for _ in 0..<5 {
            usleep(20_000)
            let out = UnsafeMutablePointer<Int>.allocate(capacity: 6)
            out.initialize(repeating: 0, count: 6)
            pool.run(parts: 6) { p in out[p] = p * p }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: 6)), [0, 1, 4, 9, 16, 25])
            out.deallocate()
        }
    }

    func testNestedCallRunsSerially() {
        let pool = ThreadPool(threads: 2)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        out.initialize(repeating: 0, count: 4)
        pool.run(parts: 2) { p in
            pool.run(parts: 2) { q in out[p * 2 + q] += 1 }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: 4)), [1, 1, 1, 1])
        out.deallocate()
    }

    func testConcurrentCallersEachGetEveryPart() {
        let pool = ThreadPool(threads: 2)
        nonisolated(unsafe) let results = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 8)
        results.initialize(repeating: 0, count: 32)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<500 {
                pool.run(parts: 8) { p in results[caller * 8 + p] += 1 }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: results, count: 32)), [Int](repeating: 500, count: 32))
        results.deallocate()
    }

    func testThreadCountCanChange() {
        let pool = ThreadPool(threads: 1)
        pool.setThreadCount(3)
        XCTAssertEqual(pool.threadCount, 3)
        pool.setThreadCount(2)
        XCTAssertEqual(pool.threadCount, 2)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 5)
        out.initialize(repeating: 0, count: 5)
        pool.run(parts: 5) { p in out[p] = 1 }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: 5)), [1, 1, 1, 1, 1])
        out.deallocate()
    }

    /// Two model calls running at once make the pool keep parts on their
    /// callers; a call nested in another on the same thread does not.
    func testOverlappingCallersAreCountedPerThread() {
        let pool = ThreadPool(threads: 2)
        pool.asCaller {
            pool.asCaller { XCTAssertFalse(pool.keepsPartsOnCallers, "a nested call is not a second caller") }
            XCTAssertFalse(pool.keepsPartsOnCallers)
        }
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            pool.asCaller {
                inside.signal()
                release.wait()
            }
        }
        inside.wait()
        pool.asCaller { XCTAssertTrue(pool.keepsPartsOnCallers, "two threads' calls overlap") }
        release.signal()
    }
}
