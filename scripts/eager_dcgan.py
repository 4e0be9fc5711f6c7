#!/usr/bin/env python3
"""The reference a user would write instead of the runner: pytorch/examples' DCGAN training loop
(https://github.com/pytorch/examples/blob/main/dcgan/main.py), same model as the runner's DCGAN.

Per batch: one D step on a real batch and a detached fake batch, then one G step that reuses
that fake batch; zero_grad(set_to_none=True); torch.optim.Adam(betas=(0.5, 0.999)); the data is
already in memory as u8 (like the runner's, scaled per batch). --precision bf16 wraps the
forward passes in torch.autocast(device, dtype=torch.bfloat16), as PyTorch's AMP recipe does.

Prints one line: `images_per_sec=<best epoch's training images per second>` (dataset images
consumed per second; the first epoch is timed too, `--epochs` of them, best kept).
"""

import argparse
import time

import torch
import torch.nn as nn


def generator(z, g, n):
    layers, ch = [], g << (n - 1)
    layers += [nn.ConvTranspose2d(z, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
    for _ in range(1, n):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(d, n):
    layers, ch = [nn.Conv2d(3, d, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)], d
    for _ in range(1, n):
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, inplace=True)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, 4, 1, 0), nn.Flatten(0)]
    return nn.Sequential(*layers)


def init(m):
    # pytorch/examples' weights_init: N(0, 0.02) convs, N(1, 0.02) batch-norm scales.
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--z", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--images", type=int, default=640, help="dataset images per epoch")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--label-noise", type=float, default=0.1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    n = a.size.bit_length() - 3  # log2(size) - 2 blocks
    netG, netD = generator(a.z, a.width, n).to(dev), discriminator(a.width, n).to(dev)
    netG.apply(init)
    netD.apply(init)
    opt_g = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    data = torch.randint(0, 256, (a.images, 3, a.size, a.size), dtype=torch.uint8, device=dev)
    amp = dict(device_type=dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")
    b = a.batch
    best = 0.0
    for _ in range(a.epochs):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        order = torch.randperm(a.images, device=dev)
        for i in range(a.images // b):
            real = data[order[i * b:(i + 1) * b]].float() / 127.5 - 1.0
            # (1) D: maximise log D(x) + log(1 - D(G(z))), with noisy labels like the runner's.
            netD.zero_grad(set_to_none=True)
            noise = torch.randn(b, a.z, 1, 1, device=dev)
            with torch.autocast(**amp):
                out_real = netD(real)
                err_real = criterion(out_real, 1.0 - torch.rand(b, device=dev) * a.label_noise)
            err_real.backward()
            with torch.autocast(**amp):
                fake = netG(noise)
                out_fake = netD(fake.detach())
                err_fake = criterion(out_fake, torch.rand(b, device=dev) * a.label_noise)
            err_fake.backward()
            opt_d.step()
            # (2) G: maximise log D(G(z)) on the same fake batch.
            netG.zero_grad(set_to_none=True)
            with torch.autocast(**amp):
                err_g = criterion(netD(fake), torch.ones(b, device=dev))
            err_g.backward()
            opt_g.step()
        # The figures a user would print once per epoch.
        _ = (err_real + err_fake).item(), err_g.item()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, (a.images // b) * b / (time.perf_counter() - t0))
    print(f"images_per_sec={best:.2f}")


if __name__ == "__main__":
    main()
