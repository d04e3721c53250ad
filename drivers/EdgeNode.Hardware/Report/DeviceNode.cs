namespace EdgeNode.Hardware.Report;

/// <summary>
/// A device node that hints at an accelerator or an attached bus. Kind: nvidia-gpu, nvidia-tegra,
/// drm, accel, qualcomm-fastrpc, adreno-gpu, mali-gpu, rockchip-npu, coral-tpu, hailo, gpio, i2c, spi, pwm.
/// </summary>
public sealed record DeviceNode(string Path, string Kind);
