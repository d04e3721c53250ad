using System.Runtime.InteropServices;
using EdgeNode.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime.CustomOps;

/// <summary>
/// EdgeNode's own CPU kernels, registered with ONNX Runtime as custom operators of the domain <see cref="Domain"/>. For now
/// one: <c>MatMulNBits</c> with the inputs and attributes of ONNX Runtime's own (com.microsoft) operator, restricted to 4-bit
/// weights without zero points, computed by <see cref="BlockQ4MatMul"/> straight from the initializer's bytes. A graph
/// opts in node by node by naming this domain (<see cref="Supports"/> says which nodes may); other execution providers and
/// processors without the instructions keep the stock operator.
/// </summary>
public static unsafe class CpuKernels
{
    public const string Domain = "ai.edgenode";
    public const string MatMulOperator = "MatMulNBits";

    private static readonly Lock s_gate = new();
    private static nint s_domain;

    /// <summary>Whether this processor runs the kernels (AVX-VNNI on x64, dot product on arm64).</summary>
    public static bool IsAvailable => BlockQ4MatMul.IsAccelerated;

    /// <summary>The instruction set the kernels use here ("avx-vnni", "neon-dotprod"), or null.</summary>
    public static string? InstructionSet => BlockQ4MatMul.InstructionSet;

    /// <summary>Whether a MatMulNBits node with these attributes and input count can run on the custom kernel.</summary>
    public static bool Supports(long k, long n, long bits, long blockSize, int inputCount) =>
        IsAvailable && inputCount == 3 && bits == 4 && n > 0 && k <= int.MaxValue && n <= int.MaxValue
        && BlockQ4MatMul.Supports((int)k, (int)blockSize, out _);

    /// <summary>Makes the kernels' domain known to sessions created with <paramref name="options"/>.</summary>
    public static void AddTo(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!IsAvailable)
            throw new PlatformNotSupportedException("EdgeNode's CPU kernels need AVX-VNNI (x64) or the dot-product instructions (arm64)");
        OrtCApi.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle());
    }

    /// <summary>The domain, created once: ORT keeps a pointer to it and to the operator for as long as any session lives.</summary>
    private static nint DomainHandle()
    {
        lock (s_gate)
        {
            if (s_domain != 0)
                return s_domain;
            var domain = OrtCApi.CreateCustomOpDomain(Domain);
            OrtCApi.CustomOpDomainAdd(domain, MatMulOp.Create());
            s_domain = domain;
            return domain;
        }
    }

    /// <summary>The OrtCustomOp record and its callbacks.</summary>
    private static class MatMulOp
    {
        // OrtCustomOp: a uint32 version, then function pointers in this order (onnxruntime_c_api.h).
        private const int VersionWithStatusCallbacks = 16;
        private const int Slots = 25;
        private const int CreateKernel = 0, GetName = 1, GetExecutionProviderType = 2, GetInputType = 3, GetInputTypeCount = 4,
            GetOutputType = 5, GetOutputTypeCount = 6, KernelCompute = 7, KernelDestroy = 8, GetInputCharacteristic = 9,
            GetOutputCharacteristic = 10, GetInputMemoryType = 11, GetVariadicInputMinArity = 12, GetVariadicInputHomogeneity = 13,
            GetVariadicOutputMinArity = 14, GetVariadicOutputHomogeneity = 15, CreateKernelV2 = 16, KernelComputeV2 = 17;

        private const int ElementFloat = 1;
        private const int ElementUInt8 = 2;

        // Native, null-terminated and never freed: ORT reads them through the operator for the process's life.
        private static readonly byte* s_name = (byte*)Marshal.StringToCoTaskMemUTF8(MatMulOperator);
        private static readonly byte* s_provider = (byte*)Marshal.StringToCoTaskMemUTF8("CPUExecutionProvider");

        public static void* Create()
        {
            // Native and never freed: the domain that points at it lives as long as the process.
            var op = (byte*)NativeMemory.AllocZeroed((nuint)(8 + Slots * sizeof(nint)));
            *(uint*)op = VersionWithStatusCallbacks;
            var slots = (nint*)(op + 8);
            slots[CreateKernel] = (nint)(delegate* unmanaged<void*, nint, nint, void*>)&CreateKernelV1;
            slots[GetName] = (nint)(delegate* unmanaged<void*, byte*>)&Name;
            slots[GetExecutionProviderType] = (nint)(delegate* unmanaged<void*, byte*>)&Provider;
            slots[GetInputType] = (nint)(delegate* unmanaged<void*, nuint, int>)&InputType;
            slots[GetInputTypeCount] = (nint)(delegate* unmanaged<void*, nuint>)&InputCount;
            slots[GetOutputType] = (nint)(delegate* unmanaged<void*, nuint, int>)&OutputType;
            slots[GetOutputTypeCount] = (nint)(delegate* unmanaged<void*, nuint>)&OutputCount;
            slots[KernelCompute] = (nint)(delegate* unmanaged<void*, nint, void>)&ComputeV1;
            slots[KernelDestroy] = (nint)(delegate* unmanaged<void*, void>)&Destroy;
            slots[GetInputCharacteristic] = (nint)(delegate* unmanaged<void*, nuint, int>)&Required;
            slots[GetOutputCharacteristic] = (nint)(delegate* unmanaged<void*, nuint, int>)&Required;
            slots[GetInputMemoryType] = (nint)(delegate* unmanaged<void*, nuint, int>)&DefaultMemory;
            slots[GetVariadicInputMinArity] = (nint)(delegate* unmanaged<void*, int>)&One;
            slots[GetVariadicInputHomogeneity] = (nint)(delegate* unmanaged<void*, int>)&One;
            slots[GetVariadicOutputMinArity] = (nint)(delegate* unmanaged<void*, int>)&One;
            slots[GetVariadicOutputHomogeneity] = (nint)(delegate* unmanaged<void*, int>)&One;
            slots[CreateKernelV2] = (nint)(delegate* unmanaged<void*, nint, nint, void**, nint>)&CreateKernelWithStatus;
            slots[KernelComputeV2] = (nint)(delegate* unmanaged<void*, nint, nint>)&Compute;
            return op;
        }

        [UnmanagedCallersOnly] private static byte* Name(void* op) => s_name;
        [UnmanagedCallersOnly] private static byte* Provider(void* op) => s_provider;
        [UnmanagedCallersOnly] private static int InputType(void* op, nuint index) => index == 1 ? ElementUInt8 : ElementFloat;
        [UnmanagedCallersOnly] private static nuint InputCount(void* op) => 3;
        [UnmanagedCallersOnly] private static int OutputType(void* op, nuint index) => ElementFloat;
        [UnmanagedCallersOnly] private static nuint OutputCount(void* op) => 1;
        [UnmanagedCallersOnly] private static int Required(void* op, nuint index) => 0;
        [UnmanagedCallersOnly] private static int DefaultMemory(void* op, nuint index) => 0;
        [UnmanagedCallersOnly] private static int One(void* op) => 1;

        [UnmanagedCallersOnly]
        private static void* CreateKernelV1(void* op, nint api, nint info)
        {
            void* kernel = null;
            var status = CreateKernelCore(info, &kernel);
            return status == 0 ? kernel : null;
        }

        [UnmanagedCallersOnly]
        private static nint CreateKernelWithStatus(void* op, nint api, nint info, void** kernel) => CreateKernelCore(info, kernel);

        private static nint CreateKernelCore(nint info, void** kernel)
        {
            try
            {
                var k = OrtCApi.KernelInfoGetAttributeInt64(info, "K\0"u8);
                var n = OrtCApi.KernelInfoGetAttributeInt64(info, "N\0"u8);
                var bits = OrtCApi.KernelInfoGetAttributeInt64(info, "bits\0"u8);
                var blockSize = OrtCApi.KernelInfoGetAttributeInt64(info, "block_size\0"u8);
                if (!Supports(k, n, bits, blockSize, 3))
                    return OrtCApi.Fail($"{Domain}.{MatMulOperator}: K={k} N={n} bits={bits} block_size={blockSize} is not one the EdgeNode kernel computes");
                var state = (KernelShape*)NativeMemory.Alloc((nuint)sizeof(KernelShape));
                *state = new KernelShape((int)k, (int)n, (int)blockSize);
                *kernel = state;
                return 0;
            }
            catch (Exception e)
            {
                return OrtCApi.Fail($"{Domain}.{MatMulOperator}: {e.Message}");
            }
        }

        [UnmanagedCallersOnly]
        private static void Destroy(void* kernel) => NativeMemory.Free(kernel);

        [UnmanagedCallersOnly]
        private static void ComputeV1(void* kernel, nint context) => ComputeCore((KernelShape*)kernel, context);

        [UnmanagedCallersOnly]
        private static nint Compute(void* kernel, nint context) => ComputeCore((KernelShape*)kernel, context);

        private static nint ComputeCore(KernelShape* kernel, nint context)
        {
            try
            {
                var input = OrtCApi.KernelContextGetInput(context, 0);
                Span<long> shape = stackalloc long[8];
                var rank = OrtCApi.GetShape(input, shape);
                if (rank < 1 || shape[rank - 1] != kernel->K)
                    throw new ArgumentException($"input A's last dimension is {(rank < 1 ? 0 : shape[rank - 1])}, K is {kernel->K}");
                long rows = 1;
                for (var i = 0; i < rank - 1; i++)
                    rows *= shape[i];
                shape[rank - 1] = kernel->N;
                var output = OrtCApi.KernelContextGetOutput(context, 0, shape[..rank]);
                if (rows == 0)
                    return 0;
                var weights = new BlockQ4Weights((byte*)OrtCApi.GetTensorData(OrtCApi.KernelContextGetInput(context, 1)),
                    (float*)OrtCApi.GetTensorData(OrtCApi.KernelContextGetInput(context, 2)), kernel->N, kernel->K, kernel->BlockSize);
                var activations = QuantizedActivations.ForCurrentThread();
                activations.Quantize(new ReadOnlySpan<float>(OrtCApi.GetTensorData(input), checked((int)(rows * kernel->K))), (int)rows, kernel->K, kernel->BlockSize);
                var job = new Job(weights, activations.Rows, (float*)OrtCApi.GetTensorData(output));
                var items = (kernel->N + BlockQ4MatMul.RowsPerWorkItem - 1) / BlockQ4MatMul.RowsPerWorkItem;
                OrtCApi.ParallelFor(context, &Work, items, &job);
                return job.Failed == 0 ? 0 : OrtCApi.Fail($"{Domain}.{MatMulOperator}: a work item failed");
            }
            catch (Exception e)
            {
                return OrtCApi.Fail($"{Domain}.{MatMulOperator}: {e.Message}");
            }
        }

        [UnmanagedCallersOnly]
        private static void Work(void* state, nuint item)
        {
            var job = (Job*)state;
            try
            {
                var first = (int)item * BlockQ4MatMul.RowsPerWorkItem;
                BlockQ4MatMul.Multiply(job->Weights, job->Activations, job->Output, first, Math.Min(first + BlockQ4MatMul.RowsPerWorkItem, job->Weights.Rows));
            }
            catch (Exception)
            {
                // Only argument checks throw, and the kernel validated them before; recorded so the run fails, not the process.
                Interlocked.Exchange(ref job->Failed, 1);
            }
        }
    }

    private readonly record struct KernelShape(int K, int N, int BlockSize);

    private struct Job(BlockQ4Weights weights, QuantizedRows activations, float* output)
    {
        public readonly BlockQ4Weights Weights = weights;
        public readonly QuantizedRows Activations = activations;
        public readonly float* Output = output;
        public int Failed;
    }
}
