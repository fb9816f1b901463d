// SPDX-License-Identifier: MIT
/*
 * mesa-client - Mesa's GBM and EGL (llvmpipe through kms_swrast) on swgpu,
 * pixel-checked; prints one KTAP document.
 *
 *   mesa-client DRIVER-NAME
 *
 * DRIVER-NAME is the name swgpu registered under: "swgpu", or "vgem" when
 * it was loaded with vgem_compat=1 (then the in-tree vgem must not be
 * loaded). The cases:
 *
 *   gbm-*        a GBM device on swgpu's primary node, an EGL display on
 *                it, a known scene rendered with GLES2 into a GBM buffer;
 *                its pixels read back through glReadPixels, gbm_bo_map,
 *                sampling the buffer as a texture,
 *                the dma-buf of gbm_bo_get_fd, a second swgpu file that
 *                imports it (MODE_MAP_DUMB), and the in-tree vgem that
 *                imports it (through the dma-buf vgem hands back: vgem
 *                cannot MAP_DUMB an import).
 *   texture-*    a foreign dma-buf (vgem, udmabuf, system dma-heap)
 *                imported with EGL_EXT_image_dma_buf_import and sampled
 *                as a texture: the exporter's pixels come out.
 *   target-*     the same buffers as render targets: the scene lands in
 *                the exporter's pages. Mesa's kms_swrast maps what it
 *                imports with MODE_MAP_DUMB, which swgpu grants for
 *                imports (uapi.rst); the DRM core's default refuses, and
 *                Mesa then crashes.
 *   surfaceless-* the EGL surfaceless platform with LIBGL_ALWAYS_SOFTWARE=1:
 *                Mesa then takes kms_swrast on the primary node of a
 *                device named vgem or virtio_gpu (no other name), so it
 *                uses swgpu only as "vgem"; elsewhere skipped, saying
 *                which device Mesa chose.
 *
 * The GBM display's cases run in one child process, the surfaceless
 * ones in another: a crash in Mesa fails the cases its child did not
 * finish, saying so, and the other child still runs. A case that cannot run
 * here (no udmabuf on 6.1, no in-tree vgem beside swgpu-as-vgem) is
 * "ok # SKIP" with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>
#include <gbm.h>
#include <drm.h>
#include <drm_fourcc.h>
#include <drm_mode.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <swgpu_drm.h>

#define W 64
#define H 64

/* ---- results, shared with the children ---- */

enum { UNSET, PASS, FAIL, SKIP };
struct result {
	int status;
	char msg[320];
};

enum {
	GBM_SCENE, GBM_TEXTURE, GBM_DMABUF, GBM_SWGPU2, GBM_VGEM,
	TEX_VGEM, TEX_UDMABUF, TEX_HEAP,
	TGT_VGEM, TGT_UDMABUF, TGT_HEAP,
	SL_DEVICE, SL_TEXTURE, SL_TARGET,
	NCASES
};
static const char *const case_names[NCASES] = {
	"gbm-scene-readpixels-and-gbm-map", "gbm-texture", "gbm-dmabuf-mmap",
	"gbm-second-swgpu-file", "gbm-vgem-import",
	"texture-vgem", "texture-udmabuf", "texture-heap",
	"target-vgem", "target-udmabuf", "target-heap",
	"surfaceless-device", "surfaceless-texture", "surfaceless-target",
};
static struct result *results;
static const char *driver_name;

static struct timespec start;

static void set(int c, int status, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	if (results[c].status != UNSET)
		return;
	va_start(ap, fmt);
	vsnprintf(results[c].msg, sizeof(results[c].msg), fmt, ap);
	va_end(ap);
	results[c].status = status;
	/* for the log only: where the guest's time goes (never asserted) */
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("# %s done after %ld ms\n", case_names[c],
	       (long)((now.tv_sec - start.tv_sec) * 1000 +
		      (now.tv_nsec - start.tv_nsec) / 1000000));
}

/* A check that fails case @c and returns false. */
#define CHECK(c, cond, ...) \
	((cond) ? true : (set((c), FAIL, __VA_ARGS__), false))

/* ---- DRM helpers ---- */

static bool fd_driver_is(int fd, const char *name)
{
	char buf[64] = { 0 };
	struct drm_version v = { .name = buf, .name_len = sizeof(buf) - 1 };

	return ioctl(fd, DRM_IOCTL_VERSION, &v) == 0 && !strcmp(buf, name);
}

/* The first primary node of driver @name, or -1. */
static int open_primary(const char *name, char *path, size_t len)
{
	for (int i = 0; i < 64; i++) {
		char p[64];
		int fd;

		snprintf(p, sizeof(p), "/dev/dri/card%d", i);
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fd_driver_is(fd, name)) {
			if (path)
				snprintf(path, len, "%s", p);
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* True when @fd answers swgpu's own GEM_CREATE: swgpu under any name. */
static bool is_swgpu(int fd)
{
	struct drm_swgpu_gem_create arg = { .size = 4096 };
	struct drm_gem_close cl = { 0 };

	if (ioctl(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &arg))
		return false;
	cl.handle = arg.handle;
	ioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
	return true;
}

static int prime_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = dmabuf };

	if (ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p))
		return -errno;
	*handle = p.handle;
	return 0;
}

static int map_dumb(int fd, uint32_t handle, size_t size, void **map)
{
	struct drm_mode_map_dumb m = { .handle = handle };

	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		return -errno;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)m.offset);
	return *map == MAP_FAILED ? -errno : 0;
}

static void dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	if (dmabuf >= 0)
		ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s);
}

/* ---- pictures ---- */

/*
 * The scene, in memory order (row 0 is GL's y = 0): red, a green square
 * scissor-cleared at the bottom left, a blue square drawn at the top
 * right. As XRGB8888 without the X byte.
 */
static uint32_t scene(int x, int y)
{
	if (x < W / 2 && y < H / 2)
		return 0x00ff00;
	if (x >= W / 2 && y >= H / 2)
		return 0x0000ff;
	return 0xff0000;
}

/* A picture where every pixel differs: for the texture cases. */
static uint32_t picture(int x, int y)
{
	return ((uint32_t)(x * 4) << 16) | ((uint32_t)(y * 4) << 8) |
		(uint32_t)(((x ^ y) * 4) & 0xff);
}

/* Compare @map (XRGB8888, @pitch bytes a row) with @want. */
static bool check_map(int c, const char *what, const void *map,
		      uint32_t pitch, uint32_t (*want)(int, int))
{
	for (int y = 0; y < H; y++) {
		const uint32_t *row = (const uint32_t *)
			((const uint8_t *)map + (size_t)y * pitch);

		for (int x = 0; x < W; x++)
			if ((row[x] & 0xffffff) != want(x, y)) {
				set(c, FAIL, "%s: pixel (%d,%d) is %#08x, want %#08x",
				    what, x, y, row[x] & 0xffffff, want(x, y));
				return false;
			}
	}
	return true;
}

static void draw_picture(void *map, uint32_t pitch)
{
	for (int y = 0; y < H; y++) {
		uint32_t *row = (uint32_t *)((uint8_t *)map + (size_t)y * pitch);

		for (int x = 0; x < W; x++)
			row[x] = 0xff000000u | picture(x, y);
	}
}

/* ---- EGL and GLES2 ---- */

struct gl {
	EGLDisplay dpy;
	EGLContext ctx;
	GLuint color_prog, tex_prog;
	PFNGLEGLIMAGETARGETTEXTURE2DOESPROC image_target_texture;
	GLenum image_error;	/* of the last image_texture() */
};

static const char *egl_err(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "EGL error %#x", eglGetError());
	return buf;
}

static GLuint shader(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	return ok ? s : 0;
}

static GLuint program(const char *fs)
{
	static const char *vs =
		"attribute vec2 pos;\n"
		"varying vec2 tc;\n"
		"void main() {\n"
		"  tc = pos * 0.5 + 0.5;\n"
		"  gl_Position = vec4(pos, 0.0, 1.0);\n"
		"}\n";
	GLuint p = glCreateProgram(), v = shader(GL_VERTEX_SHADER, vs),
	       f = shader(GL_FRAGMENT_SHADER, fs);
	GLint ok = 0;

	if (!v || !f)
		return 0;
	glAttachShader(p, v);
	glAttachShader(p, f);
	glBindAttribLocation(p, 0, "pos");
	glLinkProgram(p);
	glGetProgramiv(p, GL_LINK_STATUS, &ok);
	return ok ? p : 0;
}

/* Initialise EGL on @dpy with a GLES2 context; fails case @c. */
static bool gl_init(int c, struct gl *g, EGLDisplay dpy)
{
	static const EGLint ctx_attr[] = { EGL_CONTEXT_CLIENT_VERSION, 2,
					   EGL_NONE };
	const char *ext;

	memset(g, 0, sizeof(*g));
	g->dpy = dpy;
	if (!CHECK(c, dpy != EGL_NO_DISPLAY, "no EGL display: %s", egl_err()))
		return false;
	if (!CHECK(c, eglInitialize(dpy, NULL, NULL), "eglInitialize: %s",
		   egl_err()))
		return false;
	ext = eglQueryString(dpy, EGL_EXTENSIONS);
	if (!CHECK(c, ext && strstr(ext, "EGL_KHR_surfaceless_context"),
		   "no EGL_KHR_surfaceless_context"))
		return false;
	if (!CHECK(c, eglBindAPI(EGL_OPENGL_ES_API), "eglBindAPI: %s",
		   egl_err()))
		return false;
	g->ctx = eglCreateContext(dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
				  ctx_attr);
	if (!CHECK(c, g->ctx != EGL_NO_CONTEXT, "eglCreateContext: %s",
		   egl_err()))
		return false;
	if (!CHECK(c, eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE,
				     g->ctx), "eglMakeCurrent: %s", egl_err()))
		return false;
	g->image_target_texture = (PFNGLEGLIMAGETARGETTEXTURE2DOESPROC)
		eglGetProcAddress("glEGLImageTargetTexture2DOES");
	g->color_prog = program("precision mediump float;\n"
				"uniform vec4 color;\n"
				"void main() { gl_FragColor = color; }\n");
	g->tex_prog = program("precision mediump float;\n"
			      "uniform sampler2D tex;\n"
			      "varying vec2 tc;\n"
			      "void main() { gl_FragColor = texture2D(tex, tc); }\n");
	if (!CHECK(c, g->color_prog && g->tex_prog, "shaders do not build"))
		return false;
	printf("# %s: GL_RENDERER \"%s\", GL_VERSION \"%s\"\n",
	       case_names[c], (const char *)glGetString(GL_RENDERER),
	       (const char *)glGetString(GL_VERSION));
	fflush(stdout);
	return true;
}

static void quad(void)
{
	static const GLfloat v[] = { -1, -1, 1, -1, -1, 1, 1, 1 };

	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, v);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

/* Render the scene into the framebuffer bound now (W x H). */
static void render_scene(struct gl *g)
{
	glViewport(0, 0, W, H);
	glDisable(GL_SCISSOR_TEST);
	glClearColor(1, 0, 0, 1);
	glClear(GL_COLOR_BUFFER_BIT);
	glEnable(GL_SCISSOR_TEST);
	glScissor(0, 0, W / 2, H / 2);
	glClearColor(0, 1, 0, 1);
	glClear(GL_COLOR_BUFFER_BIT);
	glDisable(GL_SCISSOR_TEST);
	/* the top right quarter: a viewport there, a full quad in it */
	glViewport(W / 2, H / 2, W / 2, H / 2);
	glUseProgram(g->color_prog);
	glUniform4f(glGetUniformLocation(g->color_prog, "color"), 0, 0, 1, 1);
	quad();
	glViewport(0, 0, W, H);
	glFinish();
}

/* glReadPixels of the bound framebuffer against @want. */
static bool check_readpixels(int c, uint32_t (*want)(int, int))
{
	static uint8_t px[W * H * 4];

	glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, px);
	if (!CHECK(c, glGetError() == GL_NO_ERROR, "glReadPixels failed"))
		return false;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			const uint8_t *p = px + ((size_t)y * W + x) * 4;
			uint32_t got = ((uint32_t)p[0] << 16) |
				((uint32_t)p[1] << 8) | p[2];

			if (got != want(x, y)) {
				set(c, FAIL, "glReadPixels: pixel (%d,%d) is %#08x, want %#08x",
				    x, y, got, want(x, y));
				return false;
			}
		}
	return true;
}

/* An EGLImage of a W x H XRGB8888 dma-buf with @pitch. */
static EGLImage import_dmabuf(struct gl *g, int dmabuf, uint32_t pitch)
{
	const EGLAttrib attr[] = {
		EGL_WIDTH, W, EGL_HEIGHT, H,
		EGL_LINUX_DRM_FOURCC_EXT, DRM_FORMAT_XRGB8888,
		EGL_DMA_BUF_PLANE0_FD_EXT, dmabuf,
		EGL_DMA_BUF_PLANE0_OFFSET_EXT, 0,
		EGL_DMA_BUF_PLANE0_PITCH_EXT, pitch,
		EGL_NONE,
	};

	return eglCreateImage(g->dpy, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT,
			      NULL, attr);
}

/* A texture of @image, and a framebuffer around it when @fbo. */
static GLuint image_texture(struct gl *g, EGLImage image, GLuint *fbo)
{
	GLuint tex;

	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	while (glGetError() != GL_NO_ERROR)
		;
	g->image_target_texture(GL_TEXTURE_2D, (GLeglImageOES)image);
	g->image_error = glGetError();
	if (fbo) {
		glGenFramebuffers(1, fbo);
		glBindFramebuffer(GL_FRAMEBUFFER, *fbo);
		glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
				       GL_TEXTURE_2D, tex, 0);
	}
	return tex;
}

/*
 * Draw texture @tex over the whole of a new W x H RGBA texture, which
 * stays the bound framebuffer, for check_readpixels().
 */
static void sample(struct gl *g, GLuint tex)
{
	GLuint out_fbo, out_tex;

	glGenTextures(1, &out_tex);
	glBindTexture(GL_TEXTURE_2D, out_tex);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, W, H, 0, GL_RGBA,
		     GL_UNSIGNED_BYTE, NULL);
	glGenFramebuffers(1, &out_fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, out_fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
			       GL_TEXTURE_2D, out_tex, 0);
	glViewport(0, 0, W, H);
	glUseProgram(g->tex_prog);
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(GL_TEXTURE_2D, tex);
	glUniform1i(glGetUniformLocation(g->tex_prog, "tex"), 0);
	quad();
	glFinish();
}

/* ---- foreign buffers ---- */

struct foreign {
	const char *name;
	int dmabuf;
	void *map;
	uint32_t pitch;
	size_t size;
	int vgem, memfd;
	bool sync;
};

/* 0, or a reason to skip in @why. */
static int foreign_make(struct foreign *f, const char *kind, char *why,
			size_t len)
{
	memset(f, 0, sizeof(*f));
	f->dmabuf = f->vgem = f->memfd = -1;
	f->name = kind;
	f->pitch = W * 4;
	f->size = (size_t)f->pitch * H;
	if (!strcmp(kind, "vgem")) {
		struct drm_mode_create_dumb c = { .width = W, .height = H,
						  .bpp = 32 };
		struct drm_prime_handle p = { .flags = DRM_CLOEXEC | DRM_RDWR };

		f->vgem = open_primary("vgem", NULL, 0);
		if (f->vgem < 0 || is_swgpu(f->vgem)) {
			snprintf(why, len, "no in-tree vgem loaded (%s)",
				 f->vgem < 0 ? "no vgem node" :
				 "the vgem node is swgpu itself, vgem_compat=1");
			return -1;
		}
		if (ioctl(f->vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c) ||
		    map_dumb(f->vgem, c.handle, c.size, &f->map))
			return -2;
		f->pitch = c.pitch;
		f->size = c.size;
		p.handle = c.handle;
		if (ioctl(f->vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
			return -2;
		f->dmabuf = p.fd;
	} else if (!strcmp(kind, "udmabuf")) {
		struct udmabuf_create c = { .size = f->size,
					    .flags = UDMABUF_FLAGS_CLOEXEC };
		int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);

		if (dev < 0) {
			snprintf(why, len, "this kernel has no /dev/udmabuf");
			return -1;
		}
		f->memfd = memfd_create("mesa-client", MFD_ALLOW_SEALING);
		if (f->memfd < 0 || ftruncate(f->memfd, (off_t)f->size) ||
		    fcntl(f->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			return -2;
		c.memfd = f->memfd;
		f->dmabuf = ioctl(dev, UDMABUF_CREATE, &c);
		close(dev);
		if (f->dmabuf < 0)
			return -2;
		f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, f->memfd, 0);
	} else {
		struct dma_heap_allocation_data a = {
			.len = f->size, .fd_flags = O_RDWR | O_CLOEXEC };
		int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

		if (heap < 0) {
			snprintf(why, len, "this kernel has no system dma-heap");
			return -1;
		}
		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) {
			close(heap);
			return -2;
		}
		close(heap);
		f->dmabuf = (int)a.fd;
		f->sync = true;
		f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, f->dmabuf, 0);
	}
	return f->map == MAP_FAILED ? -2 : 0;
}

static void foreign_begin(struct foreign *f, uint64_t dir)
{
	if (f->sync)
		dmabuf_sync(f->dmabuf, DMA_BUF_SYNC_START | dir);
}

static void foreign_end(struct foreign *f, uint64_t dir)
{
	if (f->sync)
		dmabuf_sync(f->dmabuf, DMA_BUF_SYNC_END | dir);
}

/* ---- the case groups, each in a child ---- */

static EGLDisplay gbm_display(struct gbm_device *gbm)
{
	return eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, gbm, NULL);
}

static void group_gbm(int primary, struct gl *gl)
{
	struct gbm_device *gbm = gbm_create_device(primary);
	struct gbm_bo *bo;
	struct gl g;
	EGLImage image;
	GLuint fbo, tex;
	uint32_t stride, map_stride, handle = 0;
	void *map_data = NULL, *map;
	int dmabuf, second, vgem, again;
	size_t size;
	struct stat a, b;

	if (!CHECK(GBM_SCENE, gbm, "gbm_create_device failed"))
		return;
	printf("# GBM backend \"%s\"\n", gbm_device_get_backend_name(gbm));
	if (!gl_init(GBM_SCENE, &g, gbm_display(gbm)))
		return;
	*gl = g;
	bo = gbm_bo_create(gbm, W, H, GBM_FORMAT_XRGB8888,
			   GBM_BO_USE_RENDERING | GBM_BO_USE_LINEAR);
	if (!CHECK(GBM_SCENE, bo, "gbm_bo_create: %s", strerror(errno)))
		return;
	stride = gbm_bo_get_stride(bo);
	size = (size_t)stride * H;
	image = eglCreateImage(g.dpy, EGL_NO_CONTEXT, EGL_NATIVE_PIXMAP_KHR,
			       bo, NULL);
	if (!CHECK(GBM_SCENE, image != EGL_NO_IMAGE, "EGLImage of the bo: %s",
		   egl_err()))
		return;
	image_texture(&g, image, &fbo);
	if (!CHECK(GBM_SCENE, glCheckFramebufferStatus(GL_FRAMEBUFFER) ==
		   GL_FRAMEBUFFER_COMPLETE, "framebuffer incomplete"))
		return;
	render_scene(&g);
	if (!check_readpixels(GBM_SCENE, scene))
		return;
	map = gbm_bo_map(bo, 0, 0, W, H, GBM_BO_TRANSFER_READ, &map_stride,
			 &map_data);
	if (!CHECK(GBM_SCENE, map, "gbm_bo_map: %s", strerror(errno)))
		return;
	if (!check_map(GBM_SCENE, "gbm_bo_map", map, map_stride, scene))
		return;
	gbm_bo_unmap(bo, map_data);
	set(GBM_SCENE, PASS, "");

	/* the GBM buffer sampled as a texture gives the scene back */
	tex = image_texture(&g, image, NULL);
	if (CHECK(GBM_TEXTURE, g.image_error == GL_NO_ERROR,
		  "glEGLImageTargetTexture2DOES: GL error %#x", g.image_error)) {
		sample(&g, tex);
		if (check_readpixels(GBM_TEXTURE, scene))
			set(GBM_TEXTURE, PASS, "");
	}

	/* the dma-buf GBM hands out: read-only, as Mesa exports */
	dmabuf = gbm_bo_get_fd(bo);
	if (!CHECK(GBM_DMABUF, dmabuf >= 0, "gbm_bo_get_fd: %s",
		   strerror(errno)))
		return;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (CHECK(GBM_DMABUF, map != MAP_FAILED, "dma-buf mmap: %s",
		  strerror(errno))) {
		dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		if (check_map(GBM_DMABUF, "the dma-buf's mapping", map, stride,
			      scene))
			set(GBM_DMABUF, PASS, "");
		dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		munmap(map, size);
	}

	/* a second swgpu file: another client of the same device */
	second = open_primary(driver_name, NULL, 0);
	if (CHECK(GBM_SWGPU2, second >= 0, "cannot open swgpu again") &&
	    CHECK(GBM_SWGPU2, prime_import(second, dmabuf, &handle) == 0,
		  "PRIME import into a second swgpu file: %s", strerror(errno)) &&
	    CHECK(GBM_SWGPU2, map_dumb(second, handle, size, &map) == 0,
		  "MAP_DUMB in the second file: %s", strerror(errno))) {
		if (check_map(GBM_SWGPU2, "the second swgpu file's MAP_DUMB",
			      map, stride, scene))
			set(GBM_SWGPU2, PASS, "");
		munmap(map, size);
	}

	/* the in-tree vgem */
	vgem = open_primary("vgem", NULL, 0);
	if (vgem < 0 || is_swgpu(vgem)) {
		set(GBM_VGEM, SKIP, "no in-tree vgem loaded (%s)",
		    vgem < 0 ? "no vgem node" :
		    "the vgem node is swgpu itself, vgem_compat=1");
	} else if (CHECK(GBM_VGEM, prime_import(vgem, dmabuf, &handle) == 0,
			 "PRIME import into vgem: %s", strerror(errno))) {
		struct drm_prime_handle p = { .handle = handle,
					      .flags = DRM_CLOEXEC };

		/* vgem cannot MAP_DUMB an import: its dma-buf is the same */
		if (CHECK(GBM_VGEM, !ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p),
			  "vgem re-export: %s", strerror(errno))) {
			again = p.fd;
			fstat(again, &a);
			fstat(dmabuf, &b);
			map = mmap(NULL, size, PROT_READ, MAP_SHARED, again, 0);
			if (CHECK(GBM_VGEM, a.st_ino == b.st_ino,
				  "vgem gave back another dma-buf") &&
			    CHECK(GBM_VGEM, map != MAP_FAILED, "mmap: %s",
				  strerror(errno)) &&
			    check_map(GBM_VGEM, "vgem's dma-buf", map, stride,
				      scene))
				set(GBM_VGEM, PASS, "");
		}
	}
}

/*
 * texture-KIND and target-KIND with the GL of @g on the buffer @f; @image
 * is its EGLImage when made already (the surfaceless group checks its
 * import first), else EGL_NO_IMAGE.
 */
static void foreign_cases(int tex_case, int tgt_case, const char *kind,
			  struct gl *g, struct foreign *f, EGLImage image)
{
	GLuint fbo, tex;

	if (image == EGL_NO_IMAGE) {
		foreign_begin(f, DMA_BUF_SYNC_WRITE);
		draw_picture(f->map, f->pitch);
		foreign_end(f, DMA_BUF_SYNC_WRITE);
		image = import_dmabuf(g, f->dmabuf, f->pitch);
	}
	if (!CHECK(tex_case, image != EGL_NO_IMAGE,
		   "EGL_EXT_image_dma_buf_import of the %s buffer: %s", kind,
		   egl_err()))
		return;

	/* as a texture: the exporter's picture comes out */
	tex = image_texture(g, image, NULL);
	if (!CHECK(tex_case, g->image_error == GL_NO_ERROR,
		   "glEGLImageTargetTexture2DOES: GL error %#x", g->image_error))
		return;
	sample(g, tex);
	if (check_readpixels(tex_case, picture))
		set(tex_case, PASS, "");

	/* as a render target: the scene lands in the exporter's pages */
	image_texture(g, image, &fbo);
	if (!CHECK(tgt_case, glCheckFramebufferStatus(GL_FRAMEBUFFER) ==
		   GL_FRAMEBUFFER_COMPLETE, "framebuffer of the %s buffer incomplete",
		   kind))
		return;
	render_scene(g);
	foreign_begin(f, DMA_BUF_SYNC_READ);
	if (check_map(tgt_case, kind, f->map, f->pitch, scene))
		set(tgt_case, PASS, "");
	foreign_end(f, DMA_BUF_SYNC_READ);
}

static void group_foreign(int tex_case, int tgt_case, const char *kind,
			  struct gl *g)
{
	struct foreign f;
	char why[160] = "";
	int err;

	printf("# %s\n", kind);
	err = foreign_make(&f, kind, why, sizeof(why));
	if (err == -1) {
		set(tex_case, SKIP, "%s", why);
		set(tgt_case, SKIP, "%s", why);
		return;
	}
	if (!CHECK(tex_case, !err, "making the %s buffer: %s", kind,
		   strerror(errno)))
		return;
	foreign_cases(tex_case, tgt_case, kind, g, &f, EGL_NO_IMAGE);
}

static EGLDisplay surfaceless_display(void *unused)
{
	(void)unused;
	return eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA,
				     EGL_DEFAULT_DISPLAY, NULL);
}

/* Lines of swgpu's debugfs swgpu_objects for imports of this process. */
static int swgpu_imports(void)
{
	char line[256], want[32];
	glob_t gl;
	int n = 0;
	FILE *f;

	if (glob("/sys/kernel/debug/dri/*/swgpu_objects", 0, NULL, &gl))
		return -1;
	f = fopen(gl.gl_pathv[0], "r");
	globfree(&gl);
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "pid %d ", (int)getpid());
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) &&
		    strstr(line, " imported 1"))
			n++;
	fclose(f);
	return n;
}

static void group_surfaceless(void)
{
	static const char *const kinds[] = { "udmabuf", "heap", "vgem" };
	char why[320] = "";
	struct foreign f;
	const char *ext;
	EGLImage image;
	struct gl g;
	int before, after;
	size_t i;

	/*
	 * Without it the surfaceless platform tries only a hardware driver
	 * named after the kernel driver; with it, kms_swrast on the primary
	 * node of a device named vgem or virtio_gpu, else plain swrast.
	 */
	setenv("LIBGL_ALWAYS_SOFTWARE", "1", 1);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!foreign_make(&f, kinds[i], why, sizeof(why)))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		for (int c = SL_DEVICE; c <= SL_TARGET; c++)
			set(c, SKIP, "no foreign exporter here (udmabuf, system heap or in-tree vgem)");
		return;
	}
	if (!gl_init(SL_DEVICE, &g, surfaceless_display(NULL)))
		return;
	ext = eglQueryString(g.dpy, EGL_EXTENSIONS);
	if (!strstr(ext, "EGL_EXT_image_dma_buf_import")) {
		snprintf(why, sizeof(why), "Mesa's surfaceless display has no EGL_EXT_image_dma_buf_import: it took plain swrast, not kms_swrast on swgpu");
		for (int c = SL_DEVICE; c <= SL_TARGET; c++)
			set(c, SKIP, "%s", why);
		return;
	}
	/* kms_swrast imports what EGL imports into its DRM device */
	foreign_begin(&f, DMA_BUF_SYNC_WRITE);
	draw_picture(f.map, f.pitch);
	foreign_end(&f, DMA_BUF_SYNC_WRITE);
	before = swgpu_imports();
	image = import_dmabuf(&g, f.dmabuf, f.pitch);
	after = swgpu_imports();
	printf("# surfaceless: a %s buffer; swgpu imports of this process %d -> %d\n",
	       kinds[i], before, after);
	if (!CHECK(SL_DEVICE, before >= 0, "no readable swgpu_objects in debugfs"))
		return;
	if (image != EGL_NO_IMAGE && after == before) {
		snprintf(why, sizeof(why), "Mesa's surfaceless platform (LIBGL_ALWAYS_SOFTWARE=1) imported the dma-buf elsewhere, not into swgpu: it takes kms_swrast only on a device named vgem or virtio_gpu, and %s",
			 !strcmp(driver_name, "vgem") ? "swgpu is one" :
			 "swgpu is not (the in-tree vgem or plain swrast got it)");
		for (int c = SL_DEVICE; c <= SL_TARGET; c++)
			set(c, SKIP, "%s", why);
		return;
	}
	if (CHECK(SL_DEVICE, image != EGL_NO_IMAGE, "dma-buf import: %s",
		  egl_err()))
		set(SL_DEVICE, PASS, "");
	foreign_cases(SL_TEXTURE, SL_TARGET, kinds[i], &g, &f, image);
}

#define BIT(c) (1u << (c))
#define RANGE(a, b) ((BIT((b) + 1) - 1) & ~(BIT(a) - 1))

/* Run @fn in a child; the cases of @mask it left unset fail with why. */
static void run_group(unsigned int mask, void (*fn)(void *), void *arg)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	for (int c = 0; c < NCASES; c++) {
		if (!(mask & BIT(c)))
			continue;
		if (WIFSIGNALED(status))
			set(c, FAIL, "the client died of signal %d (%s) before this case ended",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			set(c, FAIL, "the client ended (status %d) before this case did",
			    WEXITSTATUS(status));
	}
}

static int primary_fd;

/* One EGL display on GBM for the gbm-* and the foreign cases. */
static void run_gbm(void *unused)
{
	struct gl g = { .dpy = EGL_NO_DISPLAY };

	(void)unused;
	group_gbm(primary_fd, &g);
	if (g.dpy == EGL_NO_DISPLAY)
		return;	/* the gbm cases said why; the others end unset */
	eglMakeCurrent(g.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, g.ctx);
	group_foreign(TEX_VGEM, TGT_VGEM, "vgem", &g);
	group_foreign(TEX_UDMABUF, TGT_UDMABUF, "udmabuf", &g);
	group_foreign(TEX_HEAP, TGT_HEAP, "heap", &g);
}

static void run_surfaceless(void *unused)
{
	(void)unused;
	group_surfaceless();
}

int main(int argc, char **argv)
{
	char path[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DRIVER-NAME (swgpu, or vgem under vgem_compat=1)\n",
			argv[0]);
		return 2;
	}
	driver_name = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	results = mmap(NULL, sizeof(*results) * NCASES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (results == MAP_FAILED)
		return 1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("KTAP version 1\n1..%d\n", NCASES);
	primary_fd = open_primary(driver_name, path, sizeof(path));
	if (primary_fd < 0 || !is_swgpu(primary_fd)) {
		for (int c = 0; c < NCASES; c++)
			set(c, FAIL, "no swgpu primary node named \"%s\"",
			    driver_name);
	} else {
		printf("# swgpu as \"%s\" at %s\n", driver_name, path);
		run_group(RANGE(GBM_SCENE, TGT_HEAP), run_gbm, NULL);
		run_group(RANGE(SL_DEVICE, SL_TARGET), run_surfaceless, NULL);
	}
	for (int c = 0; c < NCASES; c++) {
		struct result *r = &results[c];

		if (r->status == PASS)
			printf("ok %d %s\n", c + 1, case_names[c]);
		else if (r->status == SKIP)
			printf("ok %d %s # SKIP %s\n", c + 1, case_names[c], r->msg);
		else
			printf("not ok %d %s # %s\n", c + 1, case_names[c], r->msg);
	}
	return 0;
}
