;; SIMD kernels for serving (shared/model/rowMatrix.ts): the two dense products inference spends
;; its time in, four f32 lanes at a time. Compiled by `npm run build:kernels` into kernelsBinary.ts.
;; Every pointer is a byte offset of an f32 array in the imported memory.
(module
  (import "env" "memory" (memory 1))

  ;; out[r] = rows[r] · q for r < n; rows row-major [n, width], width a multiple of 4.
  ;; Four rows per pass (four independent sums, and q read once for them), then one at a time;
  ;; each row's sum is formed in the same order either way.
  (func (export "dotRows") (param $rows i32) (param $n i32) (param $width i32) (param $q i32) (param $out i32)
    (local $p i32) (local $c i32) (local $end i32) (local $last i32) (local $acc v128)
    (local $rb i32) (local $qv v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $last (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $rb (i32.shl (local.get $width) (i32.const 2)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $out) (i32.const 16)) (local.get $last)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $acc1 (v128.const f32x4 0 0 0 0))
        (local.set $acc2 (v128.const f32x4 0 0 0 0))
        (local.set $acc3 (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $rows))
        (local.set $end (i32.add (local.get $rows) (local.get $rb)))
        (local.set $c (local.get $q))
        (block $colsDone
          (loop $cols4
            (br_if $colsDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $qv (v128.load (local.get $c)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $p)) (local.get $qv))))
            (local.set $acc1
              (f32x4.add (local.get $acc1) (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $rb))) (local.get $qv))))
            (local.set $acc2
              (f32x4.add (local.get $acc2)
                (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $rb) (i32.const 1)))) (local.get $qv))))
            (local.set $acc3
              (f32x4.add (local.get $acc3)
                (f32x4.mul (v128.load (i32.add (local.get $p) (i32.mul (local.get $rb) (i32.const 3)))) (local.get $qv))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cols4)))
        (f32.store (local.get $out) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (f32.store offset=4 (local.get $out) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc1)) (f32x4.extract_lane 1 (local.get $acc1)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc1)) (f32x4.extract_lane 3 (local.get $acc1)))))
        (f32.store offset=8 (local.get $out) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc2)) (f32x4.extract_lane 1 (local.get $acc2)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc2)) (f32x4.extract_lane 3 (local.get $acc2)))))
        (f32.store offset=12 (local.get $out) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc3)) (f32x4.extract_lane 1 (local.get $acc3)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc3)) (f32x4.extract_lane 3 (local.get $acc3)))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $rows (i32.add (local.get $rows) (i32.shl (local.get $rb) (i32.const 2))))
        (br $quad)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $out) (local.get $last)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $rows))
        (local.set $end (i32.add (local.get $rows) (local.get $rb)))
        (local.set $c (local.get $q))
        (block $rowDone
          (loop $col
            (br_if $rowDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $acc
              (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $c)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $col)))
        (f32.store (local.get $out) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $rows (local.get $end))
        (br $row))))

  ;; z[0..cols) += Σ_i x[i] · w[i, 0..cols) for i < n; w row-major [n, cols], cols a multiple of 4.
  ;; Four rows per pass over z (a quarter of z's loads and stores), then one row at a time.
  (func (export "accumulateRows") (param $w i32) (param $n i32) (param $cols i32) (param $x i32) (param $z i32)
    (local $xEnd i32) (local $zp i32) (local $zEnd i32) (local $v v128)
    (local $row i32) (local $c i32) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $xEnd (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $zEnd (i32.add (local.get $z) (i32.shl (local.get $cols) (i32.const 2))))
    (local.set $row (i32.shl (local.get $cols) (i32.const 2)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $x) (i32.const 16)) (local.get $xEnd)))
        (local.set $v (v128.load32_splat (local.get $x)))
        (local.set $v1 (v128.load32_splat (i32.add (local.get $x) (i32.const 4))))
        (local.set $v2 (v128.load32_splat (i32.add (local.get $x) (i32.const 8))))
        (local.set $v3 (v128.load32_splat (i32.add (local.get $x) (i32.const 12))))
        (local.set $zp (local.get $z))
        (local.set $c (local.get $w))
        (block $colsDone
          (loop $cols4
            (br_if $colsDone (i32.ge_u (local.get $zp) (local.get $zEnd)))
            (v128.store (local.get $zp)
              (f32x4.add (v128.load (local.get $zp))
                (f32x4.add
                  (f32x4.add
                    (f32x4.mul (local.get $v) (v128.load (local.get $c)))
                    (f32x4.mul (local.get $v1) (v128.load (i32.add (local.get $c) (local.get $row)))))
                  (f32x4.add
                    (f32x4.mul (local.get $v2) (v128.load (i32.add (local.get $c) (i32.shl (local.get $row) (i32.const 1)))))
                    (f32x4.mul (local.get $v3) (v128.load (i32.add (local.get $c) (i32.mul (local.get $row) (i32.const 3)))))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (local.set $zp (i32.add (local.get $zp) (i32.const 16)))
            (br $cols4)))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $row) (i32.const 2))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $quad)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $xEnd)))
        (local.set $v (v128.load32_splat (local.get $x)))
        (local.set $zp (local.get $z))
        (block $rowDone
          (loop $col
            (br_if $rowDone (i32.ge_u (local.get $zp) (local.get $zEnd)))
            (v128.store (local.get $zp)
              (f32x4.add (v128.load (local.get $zp)) (f32x4.mul (local.get $v) (v128.load (local.get $w)))))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (local.set $zp (i32.add (local.get $zp) (i32.const 16)))
            (br $col)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $row))))
)
