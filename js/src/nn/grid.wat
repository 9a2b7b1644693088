;; The grid's float32 SIMD kernels (js/src/nn/gridWasm.ts drives them; js/wat.mjs compiles this
;; file into gridWasmBytes.ts). A tile holds T cells of every node of a layer, node-major: node
;; j of cell i at float index j*T + i. Every pointer is a byte offset into the exported memory;
;; T and the cell counts are multiples of 16 (the kernels process 16 cells at a time).
(module
  (memory (export "memory") 1)

  ;; dst[k*T + i] = b[k] + w[k][0]*src[i] + w[k][1]*src[T + i] + ... (summed left to right, like
  ;; the float64 path) for k < nOut and i < count. Two nodes at a time over 16 cells: the weights
  ;; of nodes 2p and 2p+1 are interleaved at w + 8*(p*nIn + j) (+4), nOut and b are padded to an
  ;; even count (a padded node's row is garbage nobody reads). nIn >= 1, nOut >= 1.
  (func (export "dense")
    (param $src i32) (param $dst i32) (param $w i32) (param $b i32)
    (param $nIn i32) (param $nOut i32) (param $T i32) (param $count i32)
    (local $stride i32) (local $end i32) (local $i i32) (local $k i32) (local $p i32)
    (local $wp i32) (local $wend i32) (local $o i32)
    (local $s0 v128) (local $s1 v128) (local $x v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $stride (i32.shl (local.get $T) (i32.const 2)))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $k (i32.const 0))
        (local.set $wp (local.get $w))
        (loop $pairs
          (local.set $a0 (v128.load32_splat (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $b0 (v128.load32_splat offset=4 (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $a1 (local.get $a0))
          (local.set $a2 (local.get $a0))
          (local.set $a3 (local.get $a0))
          (local.set $b1 (local.get $b0))
          (local.set $b2 (local.get $b0))
          (local.set $b3 (local.get $b0))
          (local.set $p (i32.add (local.get $src) (local.get $i)))
          (local.set $wend (i32.add (local.get $wp) (i32.shl (local.get $nIn) (i32.const 3))))
          (loop $inputs
            (local.set $s0 (v128.load32_splat (local.get $wp)))
            (local.set $s1 (v128.load32_splat offset=4 (local.get $wp)))
            (local.set $x (v128.load (local.get $p)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s0) (local.get $x))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s1) (local.get $x))))
            (local.set $x (v128.load offset=16 (local.get $p)))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s0) (local.get $x))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s1) (local.get $x))))
            (local.set $x (v128.load offset=32 (local.get $p)))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s0) (local.get $x))))
            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s1) (local.get $x))))
            (local.set $x (v128.load offset=48 (local.get $p)))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s0) (local.get $x))))
            (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s1) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
            (br_if $inputs (i32.lt_u (local.get $wp) (local.get $wend))))
          (local.set $o (i32.add (i32.add (local.get $dst) (local.get $i)) (i32.mul (local.get $k) (local.get $stride))))
          (v128.store offset=0 (local.get $o) (local.get $a0))
          (v128.store offset=16 (local.get $o) (local.get $a1))
          (v128.store offset=32 (local.get $o) (local.get $a2))
          (v128.store offset=48 (local.get $o) (local.get $a3))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (v128.store offset=0 (local.get $o) (local.get $b0))
          (v128.store offset=16 (local.get $o) (local.get $b1))
          (v128.store offset=32 (local.get $o) (local.get $b2))
          (v128.store offset=48 (local.get $o) (local.get $b3))
          (local.set $k (i32.add (local.get $k) (i32.const 2)))
          (br_if $pairs (i32.lt_u (local.get $k) (local.get $nOut))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $cells))))

  ;; Constants live in memory below $heap (stored by $constants at instantiation), each a splat
  ;; f32x4 at the byte offset the code loads it from: V8 rebuilds a v128.const from a general
  ;; register at every use in a loop (three instructions), where a load is one.
  (global $heap (export "heap") i32 (i32.const 1024))
  (func $constants
    (v128.store (i32.const 0) (v128.const f32x4 0 0 0 0))
    (v128.store (i32.const 16) (v128.const f32x4 0.5 0.5 0.5 0.5))
    (v128.store (i32.const 32) (v128.const f32x4 1 1 1 1))
    (v128.store (i32.const 48) (v128.const f32x4 0.01 0.01 0.01 0.01))
    ;; tanh: clamp, then Eigen's float rational approximation x P(x^2) / Q(x^2)
    (v128.store (i32.const 64) (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805))
    (v128.store (i32.const 80) (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805))
    (v128.store (i32.const 96) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16))
    (v128.store (i32.const 112) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13))
    (v128.store (i32.const 128) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11))
    (v128.store (i32.const 144) (v128.const f32x4 5.12229709037114e-8 5.12229709037114e-8 5.12229709037114e-8 5.12229709037114e-8))
    (v128.store (i32.const 160) (v128.const f32x4 1.48572235717979e-5 1.48572235717979e-5 1.48572235717979e-5 1.48572235717979e-5))
    (v128.store (i32.const 176) (v128.const f32x4 6.37261928875436e-4 6.37261928875436e-4 6.37261928875436e-4 6.37261928875436e-4))
    (v128.store (i32.const 192) (v128.const f32x4 4.89352455891786e-3 4.89352455891786e-3 4.89352455891786e-3 4.89352455891786e-3))
    (v128.store (i32.const 208) (v128.const f32x4 1.19825839466702e-6 1.19825839466702e-6 1.19825839466702e-6 1.19825839466702e-6))
    (v128.store (i32.const 224) (v128.const f32x4 1.18534705686654e-4 1.18534705686654e-4 1.18534705686654e-4 1.18534705686654e-4))
    (v128.store (i32.const 240) (v128.const f32x4 2.268434632439e-3 2.268434632439e-3 2.268434632439e-3 2.268434632439e-3))
    (v128.store (i32.const 256) (v128.const f32x4 4.89352518554385e-3 4.89352518554385e-3 4.89352518554385e-3 4.89352518554385e-3))
    ;; e^x (Cephes' expf): lowest x, log2(e), 1.5 * 2^23 (adding it rounds to an integer), ln(2)
    ;; in two parts, then the polynomial's coefficients
    (v128.store (i32.const 272) (v128.const f32x4 -87.3365447505531 -87.3365447505531 -87.3365447505531 -87.3365447505531))
    (v128.store (i32.const 288) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
    (v128.store (i32.const 304) (v128.const f32x4 12582912 12582912 12582912 12582912))
    (v128.store (i32.const 320) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (v128.store (i32.const 336) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (v128.store (i32.const 352) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (v128.store (i32.const 368) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (v128.store (i32.const 384) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (v128.store (i32.const 400) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (v128.store (i32.const 416) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (v128.store (i32.const 432) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (v128.store (i32.const 448) (v128.const i32x4 127 127 127 127))
    (v128.store (i32.const 464) (v128.const f32x4 88.72283935546875 88.72283935546875 88.72283935546875 88.72283935546875))
    ;; erf: clamp to +-4 (erf is +-1 in float beyond), then Eigen's float rational approximation
    ;; x P(x^2) / Q(x^2); and 1/sqrt(2) for gelu
    (v128.store (i32.const 480) (v128.const f32x4 4 4 4 4))
    (v128.store (i32.const 496) (v128.const f32x4 -4 -4 -4 -4))
    (v128.store (i32.const 512) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10))
    (v128.store (i32.const 528) (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08))
    (v128.store (i32.const 544) (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06))
    (v128.store (i32.const 560) (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05))
    (v128.store (i32.const 576) (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04))
    (v128.store (i32.const 592) (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03))
    (v128.store (i32.const 608) (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02))
    (v128.store (i32.const 624) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05))
    (v128.store (i32.const 640) (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04))
    (v128.store (i32.const 656) (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03))
    (v128.store (i32.const 672) (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03))
    (v128.store (i32.const 688) (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02))
    (v128.store (i32.const 704) (v128.const f32x4 0.70710678118654752 0.70710678118654752 0.70710678118654752 0.70710678118654752)))
  (start $constants)

  ;; BEGIN activation codes (nnvisu.tables)
  ;; Generated by `python -m nnvisu._codegen` from nnvisu.tables: do not edit this block.
  (global $relu i32 (i32.const 0))
  (global $tanh i32 (i32.const 1))
  (global $sigmoid i32 (i32.const 2))
  (global $linear i32 (i32.const 3))
  (global $leaky_relu i32 (i32.const 4))
  (global $elu i32 (i32.const 5))
  (global $gelu i32 (i32.const 6))
  (global $silu i32 (i32.const 7))
  (global $sine i32 (i32.const 8))
  ;; END activation codes

  ;; The n floats at p (n a multiple of 4) through an activation, in place, by its code (the
  ;; globals above): relu (NaN -> 0, like `v > 0 ? v : 0`), tanh, sigmoid (= 0.5 + 0.5 tanh(v/2)),
  ;; linear (unchanged), leaky_relu, gelu (0.5 v (1 + erf(v/sqrt(2)))), silu (v / (1 + e^-v)), elu
  ;; (v > 0 ? v : e^v - 1); any other code traps (`unreachable`): the caller applies activations
  ;; without a loop here itself. tanh is Eigen's float rational approximation (the float64
  ;; fastTanh of activations.ts, here in float32). pmin/pmax are one instruction each where
  ;; min/max are about eight; the operand order keeps NaN: pmax(a, b) = a < b ? b : a.
  (func (export "activate") (param $p i32) (param $n i32) (param $code i32)
    (local $end i32) (local $pre i32) (local $add i32)
    (local $v v128) (local $x v128) (local $x2 v128) (local $num v128) (local $den v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.eq (local.get $code) (global.get $linear)) (then (return)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return)))
    (if (i32.eq (local.get $code) (global.get $relu))
      (then
        (loop $relu
          ;; pmax(0, v) = 0 < v ? v : 0
          (v128.store (local.get $p) (f32x4.pmax (v128.load (i32.const 0)) (v128.load (local.get $p))))
          (br_if $relu (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
        (return)))
    (if (i32.eq (local.get $code) (global.get $leaky_relu))
      (then
        (loop $leaky
          (local.set $v (v128.load (local.get $p)))
          ;; v >= 0 ? v : 0.01 v (NaN stays NaN)
          (v128.store (local.get $p)
            (v128.bitselect
              (local.get $v)
              (f32x4.mul (local.get $v) (v128.load (i32.const 48)))
              (f32x4.ge (local.get $v) (v128.load (i32.const 0)))))
          (br_if $leaky (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
        (return)))
    (if (i32.eq (local.get $code) (global.get $gelu))
      (then
        (loop $gelu
          (local.set $v (v128.load (local.get $p)))
          (local.set $x
            (f32x4.pmin
              (f32x4.pmax (f32x4.mul (local.get $v) (v128.load (i32.const 704))) (v128.load (i32.const 496)))
              (v128.load (i32.const 480))))
          (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
          (local.set $num (f32x4.add (f32x4.mul (local.get $x2) (v128.load (i32.const 512))) (v128.load (i32.const 528))))
          (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 544))))
          (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 560))))
          (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 576))))
          (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 592))))
          (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 608))))
          (local.set $den (f32x4.add (f32x4.mul (local.get $x2) (v128.load (i32.const 624))) (v128.load (i32.const 640))))
          (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (v128.load (i32.const 656))))
          (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (v128.load (i32.const 672))))
          (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (v128.load (i32.const 688))))
          (v128.store (local.get $p)
            (f32x4.mul
              (f32x4.mul (v128.load (i32.const 16)) (local.get $v))
              (f32x4.add (v128.load (i32.const 32))
                (f32x4.div (f32x4.mul (local.get $num) (local.get $x)) (local.get $den)))))
          (br_if $gelu (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
        (return)))
    (if (i32.eq (local.get $code) (global.get $silu))
      (then
        (loop $silu
          (local.set $v (v128.load (local.get $p)))
          (v128.store (local.get $p)
            (f32x4.div (local.get $v)
              (f32x4.add (v128.load (i32.const 32)) (call $exp (f32x4.neg (local.get $v))))))
          (br_if $silu (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
        (return)))
    (if (i32.eq (local.get $code) (global.get $elu))
      (then
        (loop $elu
          (local.set $v (v128.load (local.get $p)))
          (v128.store (local.get $p)
            (v128.bitselect
              (local.get $v)
              (f32x4.sub (call $exp (local.get $v)) (v128.load (i32.const 32)))
              (f32x4.gt (local.get $v) (v128.load (i32.const 0)))))
          (br_if $elu (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
        (return)))
    (if (i32.and (i32.ne (local.get $code) (global.get $tanh)) (i32.ne (local.get $code) (global.get $sigmoid)))
      (then (unreachable)))
    ;; tanh: add + pre tanh(pre v) with (pre, add) = (1, 0); sigmoid: (0.5, 0.5). The constants'
    ;; offsets: (32, 0) or (16, 16).
    (if (i32.eq (local.get $code) (global.get $tanh))
      (then (local.set $pre (i32.const 32)) (local.set $add (i32.const 0)))
      (else (local.set $pre (i32.const 16)) (local.set $add (i32.const 16))))
    (loop $tanh
      ;; clamp to +-7.90531110763549805 (NaN stays NaN)
      (local.set $x
        (f32x4.pmin
          (f32x4.pmax (f32x4.mul (v128.load (local.get $pre)) (v128.load (local.get $p))) (v128.load (i32.const 80)))
          (v128.load (i32.const 64))))
      (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
      (local.set $num (f32x4.add (f32x4.mul (local.get $x2) (v128.load (i32.const 96))) (v128.load (i32.const 112))))
      (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 128))))
      (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 144))))
      (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 160))))
      (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 176))))
      (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (v128.load (i32.const 192))))
      (local.set $den (f32x4.add (f32x4.mul (local.get $x2) (v128.load (i32.const 208))) (v128.load (i32.const 224))))
      (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (v128.load (i32.const 240))))
      (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (v128.load (i32.const 256))))
      (v128.store (local.get $p)
        (f32x4.add (v128.load (local.get $add))
          (f32x4.mul (v128.load (local.get $pre))
            (f32x4.div (f32x4.mul (local.get $num) (local.get $x)) (local.get $den)))))
      (br_if $tanh (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  ;; e^x to float precision for any x (Cephes' expf, as in softmax below, clamped on both sides):
  ;; the smallest normal float below -87.34, +Infinity above 88.38 (where 2^n overflows: a little
  ;; early, float's largest is e^88.72, but e^+Infinity is Infinity as in JS); NaN stays NaN.
  (func $exp (param $x v128) (result v128)
    (local $t v128) (local $fx v128) (local $y v128)
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (v128.load (i32.const 272))) (v128.load (i32.const 464))))
    (local.set $t (f32x4.add (f32x4.mul (local.get $x) (v128.load (i32.const 288))) (v128.load (i32.const 304))))
    (local.set $fx (f32x4.sub (local.get $t) (v128.load (i32.const 304))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.load (i32.const 320)))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.load (i32.const 336)))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $x) (v128.load (i32.const 352))) (v128.load (i32.const 368))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 384))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 400))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 416))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 432))))
    (local.set $y
      (f32x4.add
        (f32x4.add (f32x4.mul (local.get $y) (f32x4.mul (local.get $x) (local.get $x))) (local.get $x))
        (v128.load (i32.const 32))))
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (local.get $t) (v128.load (i32.const 448))) (i32.const 23))))

  ;; Softmax over `classes` nodes (class k of cell i at p + 4*(k*T + i)), in place, for
  ;; i < count: max-shifted, e^(v - max) by Cephes' float expf, then each divided by their sum.
  ;; A NaN logit makes its cell NaN, as in the float64 path (its e^(v - max) is NaN, so the sum).
  (func (export "softmax") (param $p i32) (param $classes i32) (param $T i32) (param $count i32)
    (local $stride i32) (local $end i32) (local $q i32) (local $qend i32)
    (local $max v128) (local $sum v128) (local $x v128) (local $t v128) (local $fx v128) (local $y v128)
    (local.set $stride (i32.shl (local.get $T) (i32.const 2)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $qend (i32.add (local.get $p) (i32.mul (local.get $classes) (local.get $stride))))
        (local.set $max (v128.load (local.get $p)))
        (local.set $q (i32.add (local.get $p) (local.get $stride)))
        (block $maxed
          (loop $classmax
            (br_if $maxed (i32.ge_u (local.get $q) (local.get $qend)))
            (local.set $max (f32x4.pmax (local.get $max) (v128.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (local.get $stride)))
            (br $classmax)))
        (local.set $sum (v128.load (i32.const 0)))
        (local.set $q (local.get $p))
        (loop $exp
          ;; x = v - max <= 0 (or NaN); e^x is below float's normal range under -87.3365
          (local.set $x (f32x4.pmax (f32x4.sub (v128.load (local.get $q)) (local.get $max)) (v128.load (i32.const 272))))
          ;; x = n ln2 + r, n = round(x log2(e)) (t's low bits hold n), |r| <= ln2 / 2
          (local.set $t (f32x4.add (f32x4.mul (local.get $x) (v128.load (i32.const 288))) (v128.load (i32.const 304))))
          (local.set $fx (f32x4.sub (local.get $t) (v128.load (i32.const 304))))
          (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.load (i32.const 320)))))
          (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.load (i32.const 336)))))
          (local.set $y (f32x4.add (f32x4.mul (local.get $x) (v128.load (i32.const 352))) (v128.load (i32.const 368))))
          (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 384))))
          (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 400))))
          (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 416))))
          (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.load (i32.const 432))))
          ;; e^r = 1 + r + r^2 y, times 2^n: (n + 127) << 23 (t's bits above n shift out)
          (local.set $y
            (f32x4.add
              (f32x4.add (f32x4.mul (local.get $y) (f32x4.mul (local.get $x) (local.get $x))) (local.get $x))
              (v128.load (i32.const 32))))
          (local.set $y
            (f32x4.mul (local.get $y)
              (i32x4.shl (i32x4.add (local.get $t) (v128.load (i32.const 448))) (i32.const 23))))
          (v128.store (local.get $q) (local.get $y))
          (local.set $sum (f32x4.add (local.get $sum) (local.get $y)))
          (br_if $exp (i32.lt_u (local.tee $q (i32.add (local.get $q) (local.get $stride))) (local.get $qend))))
        (local.set $q (local.get $p))
        (loop $divide
          (v128.store (local.get $q) (f32x4.div (v128.load (local.get $q)) (local.get $sum)))
          (br_if $divide (i32.lt_u (local.tee $q (i32.add (local.get $q) (local.get $stride))) (local.get $qend))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $cells))))
)
