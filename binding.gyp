# The native CPU backend: one static library per instruction set, each compiled with only its
# own ISA flags (so AVX-512 code cannot leak onto an older CPU), linked into one addon that picks
# the best library at runtime (native/dispatch.cc). Non-x86 machines build the scalar one only.
{
  'target_defaults': {
    'cflags_cc': ['-std=c++20', '-O3', '-fPIC', '-fvisibility=hidden', '-fno-math-errno'],
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++20', '-O2'],
    # Kernels need every general register for tile pointers.
    'cflags!': ['-fno-omit-frame-pointer'],
    'xcode_settings': {'CLANG_CXX_LANGUAGE_STANDARD': 'c++20', 'GCC_OPTIMIZATION_LEVEL': '3'},
    'conditions': [
      ['target_arch=="x64"', {'defines': ['KS_X86_ISAS']}],
    ],
  },
  'targets': [
    {
      'target_name': 'kernels_scalar',
      'type': 'static_library',
      'sources': ['native/isa/scalar.cc'],
    },
    {
      'target_name': 'kilosecond',
      'sources': ['native/addon.cc', 'native/dispatch.cc', 'native/jpeg.cc', 'native/runtime.cc'],
      # libjpeg is opened at run time (native/jpeg.cc), so the addon loads on machines without it.
      'libraries': ['-ldl'],
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
        'kernels_scalar',
      ],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['kernels_avx2', 'kernels_avx512', 'kernels_avx512bf16', 'kernels_amx']}],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'kernels_avx2',
          'type': 'static_library',
          'sources': ['native/isa/avx2.cc'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx2', '-mfma']},
        },
        {
          'target_name': 'kernels_avx512',
          'type': 'static_library',
          'sources': ['native/isa/avx512.cc'],
          'cflags_cc': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx2', '-mfma',
                        '-mprefer-vector-width=512'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx512f', '-mavx512bw', '-mavx512vl',
                                                      '-mavx512dq', '-mavx2', '-mfma']},
        },
        # The bf16 tables: the avx512 kernels, with the 3x3 convolutions in bf16 on VDPBF16PS
        # (avx512bf16) or on AMX tiles (amx). dispatch.cc offers each only where CPUID and Linux
        # (for AMX, the tile-state permission) allow it.
        {
          'target_name': 'kernels_avx512bf16',
          'type': 'static_library',
          'sources': ['native/isa/avx512bf16.cc'],
          'cflags_cc': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx512bf16', '-mavx2', '-mfma',
                        '-mprefer-vector-width=512'],
        },
        {
          'target_name': 'kernels_amx',
          'type': 'static_library',
          'sources': ['native/isa/amx.cc'],
          'cflags_cc': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx512bf16', '-mamx-tile',
                        '-mamx-bf16', '-mavx2', '-mfma', '-mprefer-vector-width=512'],
        },
      ],
    }],
  ],
}
